/**
 * `BunUDPPort`: a `Bun.udpSocket` seen through IUDPPort. The checks, the
 * protocol's lifecycle and the delivery of datagrams are the kit's
 * BaseUDPPort; this file binds, closes, sends and sets socket options.
 *
 * Bun binds asynchronously (`Bun.udpSocket` returns a promise) and connects a
 * UDP socket only when it creates it, so `connect()` after the bind is done
 * here: `write(data)` goes to the peer, and BaseUDPPort drops datagrams from
 * anyone else. Bun reports an ICMP port unreachable on the socket (its
 * `error` handler, ECONNREFUSED), which reaches `connectionRefused()` of a
 * connected protocol. Bun has no `SO_REUSEADDR` option: `listenMultiple`
 * is refused (capability `udpListenMultiple`, docs/reactor-bun.md).
 *
 * Tests: test/udp.bun.test.ts, test/udp-flood.bun.test.ts, test/conformance.bun.test.ts,
 * test/types/udp.test-d.ts
 * @module
 */
import { errorCode, IPv4Address, IPv6Address, addressFor, Logger } from '@torsion/core';
import type { IDatagramProtocol, WriteData } from '@torsion/core';
import { BaseUDPPort } from '@torsion/core/reactor-kit';
import type { CheckedListenUDPOptions, OpenResources } from '@torsion/core/reactor-kit';
import type { udp } from 'bun';

const log = new Logger('torsion.bun');

/** What Bun cannot do with UDP, each with the reason; the error names the capability. */
export const BUN_UDP_LIMITS = {
  udpListenMultiple:
    'BunReactor cannot share a UDP port between sockets (capability "udpListenMultiple"): ' +
    'Bun.udpSocket has no SO_REUSEADDR option; listen once and share the protocol, or use NodeReactor',
} as const;

/** A UDP port on Bun. Created by `reactor.listenUDP()`. */
export class BunUDPPort extends BaseUDPPort {
  #socket: udp.Socket<'buffer'> | null = null;

  /**
   * @param resources - the reactor's open resources.
   * @param port - 0..65535 (checked by the reactor).
   * @param protocol - serves the port.
   * @param options - `listenUDP`'s options, checked (`listenMultiple` false).
   */
  constructor(
    resources: OpenResources,
    port: number,
    protocol: IDatagramProtocol,
    options: CheckedListenUDPOptions,
  ) {
    super({ resources, protocol, port, options, log });
  }

  protected bind(): void {
    Bun.udpSocket({
      hostname: this.requestedInterface,
      port: this.requestedPort,
      binaryType: 'buffer',
      socket: {
        data: (_socket, data, port, address, flags) => {
          this.datagramArrived(
            data,
            flags.ipv6
              ? new IPv6Address('UDP', address, port)
              : new IPv4Address('UDP', address, port),
          );
        },
        // Bun calls it with the error alone, whatever its type declarations say.
        error: (...args: unknown[]) => {
          this.#socketError(args.find((a) => a instanceof Error) ?? args[0]);
        },
      },
    }).then(
      (socket) => {
        this.#socket = socket;
        this.bound(addressFor('UDP', socket.address.address, socket.port));
      },
      (err: unknown) => {
        this.bindFailed(err);
      },
    );
  }

  protected close(): void {
    this.#socket?.close();
    this.#socket = null;
    this.closed();
  }

  protected sendTo(data: WriteData, host: string, port: number): void {
    try {
      // false: the socket buffer is full and the datagram is dropped, as UDP may.
      this.#socket?.send(data, port, host);
    } catch (err) {
      this.sendFailed(err, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
    }
  }

  protected sendConnected(data: WriteData): void {
    const peer = this.connectedTo;
    if (peer !== null) this.sendTo(data, peer.host, peer.port);
  }

  protected connectSocket(): void {
    // Done by BaseUDPPort's filtering and sendConnected: Bun connects only at creation.
  }

  protected setSocketBroadcast(enabled: boolean): void {
    this.#socket?.setBroadcast(enabled);
  }

  protected setSocketMulticastTTL(ttl: number): void {
    this.#socket?.setMulticastTTL(ttl);
  }

  protected setSocketMulticastLoopback(enabled: boolean): void {
    this.#socket?.setMulticastLoopback(enabled);
  }

  protected setSocketMembership(join: boolean, group: string, iface?: string): void {
    const socket = this.#socket;
    if (socket === null) return;
    if (join) socket.addMembership(group, iface);
    else socket.dropMembership(group, iface);
  }

  protected setSocketMulticastInterface(iface: string): void {
    this.#socket?.setMulticastInterface(iface);
  }

  #socketError(err: unknown): void {
    if (errorCode(err) === 'ECONNREFUSED') {
      this.refusedByPeer();
      return;
    }
    this.log.failure('Error on UDP port', err, { port: this.getHost().port }, 'warn');
  }
}
