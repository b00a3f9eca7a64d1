/**
 * TCP server endpoints (Twisted's `TCP4ServerEndpoint`/`TCP6ServerEndpoint`):
 * `listen(factory)` is `reactor.listenTCP` with the port's bind as a Deferred.
 *
 * Tests: test/endpoints/tcp-server-endpoint.test.ts, test/endpoints/loopback.integration.test.ts
 * @module
 */
import type { IAddress } from '../address.js';
import { Deferred, fail } from '../deferred.js';
import type {
  IListeningPort,
  IProtocolFactory,
  IReactorTCP,
  IStreamServerEndpoint,
} from '../interfaces.js';

/** Options of the TCP server endpoints. */
export interface TCPServerEndpointOptions {
  /** Pending-connection queue length; the reactor's default when absent. */
  readonly backlog?: number;
  /** Address to bind. See each class for the default. */
  readonly interface?: string;
}

/**
 * Listens with `listen()` on one port; fires with the port once bound.
 * @internal
 */
export function listenDeferred<A extends IAddress>(
  listen: () => IListeningPort<A>,
): Deferred<IListeningPort<A>> {
  let port: IListeningPort<A>;
  try {
    port = listen();
  } catch (err) {
    // Bad arguments or a stopped reactor: a failure of this listen, as Twisted's endpoints report it.
    return fail(err);
  }
  return port.whenListening();
}

/**
 * Listens on a TCP port over IPv4. `interface` defaults to `''`, the reactor's
 * default, which on Node is every interface of both families where the
 * system is dual-stack (Twisted's binds 0.0.0.0 only; give
 * `interface: '0.0.0.0'` for that).
 */
export class TCP4ServerEndpoint implements IStreamServerEndpoint {
  readonly reactor: IReactorTCP;
  readonly port: number;
  readonly interface: string;
  readonly backlog: number | undefined;

  constructor(reactor: IReactorTCP, port: number, options: TCPServerEndpointOptions = {}) {
    this.reactor = reactor;
    this.port = port;
    this.interface = options.interface ?? this.defaultInterface();
    this.backlog = options.backlog;
  }

  protected defaultInterface(): string {
    return '';
  }

  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    return listenDeferred(() =>
      this.reactor.listenTCP(this.port, factory, {
        interface: this.interface,
        ...(this.backlog === undefined ? {} : { backlog: this.backlog }),
      }),
    );
  }
}

/** Listens on a TCP port over IPv6; `interface` defaults to `'::'`. */
export class TCP6ServerEndpoint extends TCP4ServerEndpoint {
  protected override defaultInterface(): string {
    return '::';
  }
}
