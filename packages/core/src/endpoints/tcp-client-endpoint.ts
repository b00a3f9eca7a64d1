/**
 * TCP client endpoints (Twisted's `TCP4ClientEndpoint`/`TCP6ClientEndpoint`):
 * `connect(factory)` is `reactor.connectTCP` with the outcome as a
 * cancellable Deferred of the connected protocol.
 *
 * Tests: test/endpoints/tcp-client-endpoint.test.ts, test/endpoints/loopback.integration.test.ts
 * @module
 */
import { isIP } from 'node:net';
import { Deferred } from '../deferred.js';
import { DNSLookupError } from '../errors.js';
import type {
  ConnectTCPOptions,
  IEndpointProtocolFactory,
  IProtocol,
  IReactor,
  IReactorTCP,
  IStreamClientEndpoint,
} from '../interfaces.js';
import type { Failure } from '../failure.js';
import { startConnectAttempt } from './connect-attempt.js';
import { ConnectingCancelledError } from './connecting-cancelled-error.js';
import { nameResolverFor } from './name-resolver.js';

/** Options of the client endpoints: those of `connectTCP`. */
export type ClientEndpointOptions = ConnectTCPOptions;

/** `host:port`, with brackets around an IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${String(port)}`;
}

/**
 * Connects over TCP with `reactor.connectTCP`, which resolves a host name
 * itself (the system's first address). For a name with several addresses,
 * prefer {@link HostnameEndpoint}, which tries them all.
 */
export class TCP4ClientEndpoint implements IStreamClientEndpoint {
  readonly reactor: IReactorTCP;
  readonly host: string;
  readonly port: number;
  readonly options: ClientEndpointOptions;

  constructor(
    reactor: IReactorTCP,
    host: string,
    port: number,
    options: ClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.options = options;
  }

  /**
   * Fires with the protocol once connected; fails with the ConnectError of
   * the attempt (ConnectionRefusedError, TimeoutError, DNSLookupError…), or
   * ConnectingCancelledError when cancelled (the attempt is stopped).
   */
  connect<P extends IProtocol>(factory: IEndpointProtocolFactory<P>): Deferred<P> {
    return startConnectAttempt(factory, formatHostPort(this.host, this.port), (clientFactory) =>
      this.reactor.connectTCP(this.host, this.port, clientFactory, this.options),
    ).deferred;
  }
}

/**
 * Connects over TCP to an IPv6 address: a literal is used as it is; a name
 * is resolved (the reactor's resolver, see {@link nameResolverFor}) and its
 * first IPv6 address used. A name without one fails with DNSLookupError.
 */
export class TCP6ClientEndpoint implements IStreamClientEndpoint {
  readonly reactor: IReactor;
  readonly host: string;
  readonly port: number;
  readonly options: ClientEndpointOptions;

  constructor(reactor: IReactor, host: string, port: number, options: ClientEndpointOptions = {}) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.options = options;
  }

  /**
   * Fires with the protocol once connected, or fails as
   * {@link TCP4ClientEndpoint.connect}; a name without an IPv6 address fails
   * with DNSLookupError. Cancelling during the lookup or the connect fails
   * with ConnectingCancelledError.
   */
  connect<P extends IProtocol>(factory: IEndpointProtocolFactory<P>): Deferred<P> {
    const attempt = (address: string): Deferred<P> =>
      startConnectAttempt(factory, formatHostPort(address, this.port), (clientFactory) =>
        this.reactor.connectTCP(address, this.port, clientFactory, this.options),
      ).deferred;
    if (isIP(this.host) === 6) return attempt(this.host);
    const state: { inner: Deferred<P> | null; cancelled: boolean } = {
      inner: null,
      cancelled: false,
    };
    const lookup = nameResolverFor(this.reactor).resolveHostName(this.host);
    const result = new Deferred<P>(() => {
      if (state.inner !== null) {
        // Its failure, a ConnectingCancelledError, reaches `result` below.
        state.inner.cancel();
        return;
      }
      state.cancelled = true;
      lookup.cancel();
      result.errback(new ConnectingCancelledError(formatHostPort(this.host, this.port)));
    });
    lookup.addCallbacks(
      (addresses) => {
        if (state.cancelled) return;
        const v6 = addresses.find((a) => a.family === 6);
        if (v6 === undefined) {
          result.errback(new DNSLookupError(`${this.host} has no IPv6 address`));
          return;
        }
        const inner = attempt(v6.address);
        state.inner = inner;
        inner.addCallbacks(
          (protocol) => {
            result.callback(protocol);
          },
          (failure: Failure) => {
            result.errback(failure);
          },
        );
      },
      (failure: Failure) => {
        if (!state.cancelled) result.errback(failure);
      },
    );
    return result;
  }
}
