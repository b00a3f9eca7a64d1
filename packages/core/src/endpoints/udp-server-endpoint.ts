/**
 * The datagram server endpoint of `udp:PORT` strings: binds a datagram
 * protocol with `reactor.listenUDP`, the bind as a Deferred.
 *
 * Tests: test/endpoints/tcp-server-endpoint.test.ts, test/endpoints/loopback.integration.test.ts
 * @module
 */
import type { Deferred } from '../deferred.js';
import type {
  IDatagramProtocol,
  IDatagramServerEndpoint,
  IReactorUDP,
  IUDPPort,
  ListenUDPOptions,
} from '../interfaces.js';
import { listenDeferred } from './tcp-server-endpoint.js';

/** Binds a UDP port (`interface`, `maxPacketSize` as `listenUDP`). */
export class UDPServerEndpoint implements IDatagramServerEndpoint {
  readonly reactor: IReactorUDP;
  readonly port: number;
  readonly options: ListenUDPOptions;

  constructor(reactor: IReactorUDP, port: number, options: ListenUDPOptions = {}) {
    this.reactor = reactor;
    this.port = port;
    this.options = options;
  }

  listen(protocol: IDatagramProtocol): Deferred<IUDPPort> {
    return listenDeferred(() =>
      this.reactor.listenUDP(this.port, protocol, this.options),
    ) as Deferred<IUDPPort>;
  }
}
