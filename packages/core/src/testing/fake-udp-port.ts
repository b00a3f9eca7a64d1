/**
 * `FakeUDPPort`: the UDP port {@link MemoryReactor.listenUDP} returns. It is
 * bound at once, records what the protocol sends and the socket options it
 * sets, and lets a test deliver datagrams and a refusal. Built on
 * `BaseUDPPort`, so every argument check and the protocol's lifecycle are a
 * real port's.
 *
 * Tests: test/testing/fake-udp-port.test.ts, test/reactor-kit/base-udp-port.test.ts
 * @module
 */
import { addressFor, type INETAddress } from '../address.js';
import type { IDatagramProtocol, WriteData } from '../interfaces.js';
import { toBuffer } from '../internal/write-data.js';
import { Logger } from '../log.js';
import { BaseUDPPort, type CheckedListenUDPOptions } from '../reactor-kit/base-udp-port.js';
import { OpenResources } from '../reactor-kit/open-resources.js';

const log = new Logger('torsion.udp');

/** One datagram a {@link FakeUDPPort}'s protocol sent. */
export interface SentDatagram {
  readonly data: Buffer;
  /** Where it went: the address given, or the connected peer. */
  readonly address: INETAddress;
}

/**
 * A UDP port that touches no network.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactor();
 * const port = reactor.listenUDP(7, new DatagramEcho());
 * port.deliver('ping', addressFor('UDP', '192.0.2.1', 5000));
 * expect(port.sent[0]?.data.toString()).to.equal('ping');
 * ```
 */
export class FakeUDPPort extends BaseUDPPort {
  /** Every datagram the protocol sent, in order. */
  readonly sent: SentDatagram[] = [];
  /** The multicast groups joined and not left. */
  readonly groups = new Set<string>();
  /** The interface set by `setOutgoingInterface`, or null. */
  outgoingInterface: string | null = null;
  readonly #assigned: number;
  #nextPeerPort = 40000;

  /**
   * @param port - the port asked for.
   * @param assigned - the port "bound" (a fake one for 0).
   * @param protocol - serves the port; started at once.
   * @param options - `listenUDP`'s options, checked.
   * @param resources - where the port registers while open (its reactor's, or its own).
   */
  constructor(
    port: number,
    assigned: number,
    protocol: IDatagramProtocol,
    options: CheckedListenUDPOptions,
    resources: OpenResources = new OpenResources(),
  ) {
    super({ resources, protocol, port, options, log });
    this.#assigned = assigned;
  }

  /**
   * Simulates a datagram arriving from `from` (default 127.0.0.1, or ::1 on
   * an IPv6 port, with a fresh port number). As on a real port, an exception
   * from `datagramReceived` is logged, not thrown, and a connected port
   * hears only its peer.
   */
  deliver(data: WriteData, from?: INETAddress): void {
    const peer =
      from ?? addressFor('UDP', this.family === 'IPv6' ? '::1' : '127.0.0.1', this.#nextPeerPort++);
    this.datagramArrived(toBuffer(data), peer);
  }

  /** Simulates an ICMP port unreachable from the connected peer: `connectionRefused()`. */
  refuse(): void {
    this.refusedByPeer();
  }

  /** The datagrams sent, as UTF-8. */
  sentTexts(): string[] {
    return this.sent.map((d) => d.data.toString());
  }

  protected bind(): void {
    this.bound(addressFor('UDP', this.requestedInterface, this.#assigned));
  }

  protected close(): void {
    this.closed();
  }

  protected sendTo(data: WriteData, host: string, port: number): void {
    this.sent.push({ data: Buffer.from(toBuffer(data)), address: addressFor('UDP', host, port) });
  }

  protected sendConnected(data: WriteData): void {
    const peer = this.connectedTo;
    if (peer !== null) this.sent.push({ data: Buffer.from(toBuffer(data)), address: peer });
  }

  protected connectSocket(): void {}

  protected setSocketBroadcast(): void {}

  protected setSocketMulticastTTL(): void {}

  protected setSocketMulticastLoopback(): void {}

  protected setSocketMembership(join: boolean, group: string): void {
    if (join) this.groups.add(group);
    else this.groups.delete(group);
  }

  protected setSocketMulticastInterface(iface: string): void {
    this.outgoingInterface = iface;
  }
}
