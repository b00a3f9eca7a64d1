/**
 * UNIX-domain socket endpoints (Twisted's `UNIXServerEndpoint` and
 * `UNIXClientEndpoint`), on any reactor with `listenUNIX`/`connectUNIX`
 * (IReactorUNIX). A path starting with NUL is a Linux abstract name.
 *
 * Tests: test/endpoints/tcp-client-endpoint.test.ts, test/endpoints/endpoint-registry.test.ts,
 *   test/endpoints/loopback.integration.test.ts
 * @module
 */
import type { UNIXAddress } from '../address.js';
import type { Deferred } from '../deferred.js';
import type {
  ConnectUNIXOptions,
  IEndpointProtocolFactory,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IReactorUNIX,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
  ListenUNIXOptions,
} from '../interfaces.js';
import { startConnectAttempt } from './connect-attempt.js';
import { listenDeferred } from './tcp-server-endpoint.js';

/** How a UNIX path is shown in messages: an abstract name as `@name`. */
export function describeUNIXPath(path: string): string {
  return path.startsWith('\0') ? `@${path.slice(1)}` : path;
}

/** Listens on a UNIX socket file (`mode`, `backlog`, `wantPID` as `listenUNIX`). */
export class UNIXServerEndpoint implements IStreamServerEndpoint {
  readonly reactor: IReactorUNIX;
  readonly path: string;
  readonly options: ListenUNIXOptions;

  constructor(reactor: IReactorUNIX, path: string, options: ListenUNIXOptions = {}) {
    this.reactor = reactor;
    this.path = path;
    this.options = options;
  }

  listen(factory: IProtocolFactory): Deferred<IListeningPort<UNIXAddress>> {
    return listenDeferred(() => this.reactor.listenUNIX(this.path, factory, this.options));
  }
}

/** Connects to a UNIX socket file (`timeout`, `checkPID` as `connectUNIX`). */
export class UNIXClientEndpoint implements IStreamClientEndpoint {
  readonly reactor: IReactorUNIX;
  readonly path: string;
  readonly options: ConnectUNIXOptions;

  constructor(reactor: IReactorUNIX, path: string, options: ConnectUNIXOptions = {}) {
    this.reactor = reactor;
    this.path = path;
    this.options = options;
  }

  connect<P extends IProtocol>(factory: IEndpointProtocolFactory<P>): Deferred<P> {
    return startConnectAttempt(factory, describeUNIXPath(this.path), (clientFactory) =>
      this.reactor.connectUNIX(this.path, clientFactory, this.options),
    ).deferred;
  }
}
