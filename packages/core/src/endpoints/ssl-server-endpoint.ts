/**
 * The TLS server endpoint (Twisted's `SSL4ServerEndpoint`): `listen(factory)`
 * is `reactor.listenSSL` with the bind as a Deferred.
 *
 * Tests: test/endpoints/tcp-server-endpoint.test.ts, test/endpoints/loopback.integration.test.ts
 * @module
 */
import type { Deferred } from '../deferred.js';
import type {
  IProtocolFactory,
  IReactorSSL,
  ISSLListeningPort,
  IStreamServerEndpoint,
} from '../interfaces.js';
import type { ServerTLSOptions } from '../tls-options.js';
import { listenDeferred, type TCPServerEndpointOptions } from './tcp-server-endpoint.js';

/**
 * Listens for TLS on a TCP port with `options` (made by `serverTLSOptions()`).
 * The port it fires with is an ISSLListeningPort, whose certificates can be
 * replaced while it listens. `interface` defaults to `''`, as for TCP.
 */
export class SSL4ServerEndpoint implements IStreamServerEndpoint {
  readonly reactor: IReactorSSL;
  readonly port: number;
  readonly tlsOptions: ServerTLSOptions;
  readonly interface: string;
  readonly backlog: number | undefined;

  constructor(
    reactor: IReactorSSL,
    port: number,
    tlsOptions: ServerTLSOptions,
    options: TCPServerEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.port = port;
    this.tlsOptions = tlsOptions;
    this.interface = options.interface ?? '';
    this.backlog = options.backlog;
  }

  listen(factory: IProtocolFactory): Deferred<ISSLListeningPort> {
    return listenDeferred(() =>
      this.reactor.listenSSL(this.port, factory, this.tlsOptions, {
        interface: this.interface,
        ...(this.backlog === undefined ? {} : { backlog: this.backlog }),
      }),
    ) as Deferred<ISSLListeningPort>;
  }
}
