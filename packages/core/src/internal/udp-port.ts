/**
 * `UDPPort`: a UDP socket (`node:dgram`) seen through IUDPPort. The checks,
 * the protocol's lifecycle and the delivery of datagrams are BaseUDPPort's;
 * this file binds, closes, sends and sets socket options.
 *
 * Node reads datagrams through libuv, which reads at most 32 per wake-up of
 * the socket before the loop moves on to timers and other sockets, so a
 * flood from one peer cannot starve the reactor (measured in
 * test/udp-flood.integration.test.ts); nothing more is needed here.
 *
 * Tests: test/udp.integration.test.ts, test/udp-flood.integration.test.ts
 * @module
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { IPv4Address, IPv6Address, addressFor } from '../address.js';
import { errorCode } from '../error-code.js';
import type { IDatagramProtocol, WriteData } from '../interfaces.js';
import { Logger } from '../log.js';
import { BaseUDPPort, type CheckedListenUDPOptions } from '../reactor-kit/base-udp-port.js';
import type { OpenResources } from '../reactor-kit/open-resources.js';

const log = new Logger('torsion.udp');

/** A UDP port on Node. Created by `reactor.listenUDP()`. */
export class UDPPort extends BaseUDPPort {
  readonly #socket: Socket;
  /** Datagrams written between connect() and Node's connect callback; null otherwise. */
  #connecting: WriteData[] | null = null;
  readonly #afterSend = (err: Error | null): void => {
    if (err !== null) this.sendFailed(err);
  };

  /**
   * @param resources - the reactor's open resources.
   * @param port - 0..65535 (checked by the reactor).
   * @param protocol - serves the port.
   * @param options - `listenUDP`'s options, checked.
   */
  constructor(
    resources: OpenResources,
    port: number,
    protocol: IDatagramProtocol,
    options: CheckedListenUDPOptions,
  ) {
    super({ resources, protocol, port, options, log });
    this.#socket = createSocket({
      type: options.family === 'IPv6' ? 'udp6' : 'udp4',
      reuseAddr: options.listenMultiple,
    });
    this.#socket.on('message', (data: Buffer, from: RemoteInfo) => {
      this.datagramArrived(
        data,
        from.family === 'IPv6'
          ? new IPv6Address('UDP', from.address, from.port)
          : new IPv4Address('UDP', from.address, from.port),
      );
    });
    this.#socket.on('error', (err: Error) => {
      this.#socketError(err);
    });
    this.#socket.on('listening', () => {
      const address = this.#socket.address();
      this.bound(addressFor('UDP', address.address, address.port));
    });
  }

  protected bind(): void {
    this.#socket.bind({ port: this.requestedPort, address: this.requestedInterface });
  }

  protected close(): void {
    this.#socket.close(() => {
      this.closed();
    });
  }

  // Sends carry no callback: with one, Node wraps each send in a request
  // object and calls back into JavaScript once it is done, which halved the
  // datagrams/s of an echo (bench/udp-echo.ts). Without one, Node drops an
  // error the system reports for a send. The errors that matter are caught
  // before: a datagram too long (BaseUDPPort), a connected peer's closed
  // port (the socket's 'error' event). The one left, a broadcast without
  // SO_BROADCAST (EACCES), is asked about: a send to an address ending in
  // .255 while broadcast is off carries the callback.
  protected sendTo(data: WriteData, host: string, port: number): void {
    if (host.endsWith('.255') && !this.getBroadcastAllowed()) {
      this.#socket.send(data, port, host, this.#afterSend);
    } else {
      this.#socket.send(data, port, host);
    }
  }

  protected sendConnected(data: WriteData): void {
    if (this.#connecting === null) this.#socket.send(data);
    else this.#connecting.push(data);
  }

  protected connectSocket(host: string, port: number): void {
    // Node connects on a later turn even for an IP literal, and refuses an
    // address-less send until then: hold the datagrams written meanwhile.
    this.#connecting = [];
    this.#socket.connect(port, host, () => {
      const held = this.#connecting ?? [];
      this.#connecting = null;
      if (!this.accepting) return;
      for (const data of held) this.#socket.send(data);
    });
  }

  protected setSocketBroadcast(enabled: boolean): void {
    this.#socket.setBroadcast(enabled);
  }

  protected setSocketMulticastTTL(ttl: number): void {
    this.#socket.setMulticastTTL(ttl);
  }

  protected setSocketMulticastLoopback(enabled: boolean): void {
    this.#socket.setMulticastLoopback(enabled);
  }

  protected setSocketMembership(join: boolean, group: string, iface?: string): void {
    if (join) this.#socket.addMembership(group, iface);
    else this.#socket.dropMembership(group, iface);
  }

  protected setSocketMulticastInterface(iface: string): void {
    this.#socket.setMulticastInterface(iface);
  }

  #socketError(err: Error): void {
    if (!this.hasBound) {
      this.bindFailed(err);
      return;
    }
    // Linux reports an ICMP port unreachable for a connected socket on its next read.
    if (errorCode(err) === 'ECONNREFUSED') {
      this.refusedByPeer();
      return;
    }
    this.log.failure('Error on UDP port', err, { port: this.getHost().port }, 'warn');
  }
}
