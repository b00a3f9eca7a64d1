/**
 * The TLS client endpoint (Twisted's `SSL4ClientEndpoint`): `connect(factory)`
 * is `reactor.connectSSL`, the Deferred firing once the handshake completed
 * and the protocol is connected.
 *
 * Tests: test/endpoints/tcp-client-endpoint.test.ts, test/endpoints/loopback.integration.test.ts
 * @module
 */
import type { Deferred } from '../deferred.js';
import type {
  IEndpointProtocolFactory,
  IProtocol,
  IReactorSSL,
  IStreamClientEndpoint,
} from '../interfaces.js';
import type { ClientTLSOptions } from '../tls-options.js';
import { startConnectAttempt } from './connect-attempt.js';
import { formatHostPort, type ClientEndpointOptions } from './tcp-client-endpoint.js';

/**
 * Connects over TLS with `tlsOptions` (made by `optionsForClientTLS()`, which
 * verifies the server). A handshake that fails reaches the Deferred as a
 * TLSError; cancelling during the handshake closes the connection.
 */
export class SSL4ClientEndpoint implements IStreamClientEndpoint {
  readonly reactor: IReactorSSL;
  readonly host: string;
  readonly port: number;
  readonly tlsOptions: ClientTLSOptions;
  readonly options: ClientEndpointOptions;

  constructor(
    reactor: IReactorSSL,
    host: string,
    port: number,
    tlsOptions: ClientTLSOptions,
    options: ClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.tlsOptions = tlsOptions;
    this.options = options;
  }

  connect<P extends IProtocol>(factory: IEndpointProtocolFactory<P>): Deferred<P> {
    return startConnectAttempt(factory, formatHostPort(this.host, this.port), (clientFactory) =>
      this.reactor.connectSSL(this.host, this.port, clientFactory, this.tlsOptions, this.options),
    ).deferred;
  }
}
