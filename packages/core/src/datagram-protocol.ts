/**
 * `DatagramProtocol`: the base class users subclass to serve one UDP port
 * (Twisted's `DatagramProtocol`). Every hook does nothing by default, so a
 * subclass overrides only what it needs.
 *
 * Tests: test/datagram-protocol.test.ts, test/udp.integration.test.ts,
 * test/types/datagram-protocol.test-d.ts
 * @module
 */
import type { INETAddress } from './address.js';
import type { IDatagramProtocol, IUDPTransport } from './interfaces.js';

/**
 * Serves one UDP port. The port calls, in this order:
 * `makeConnection → startProtocol → (datagramReceived | connectionRefused)* → stopProtocol`.
 *
 * @typeParam T - the transport type.
 *
 * @remarks
 * Unlike a stream `Protocol`, one instance serves a whole port: every peer's
 * datagrams reach the same object, each with the address it came from. A
 * datagram is a whole message: it is never split or joined with another, but
 * it may be lost, duplicated or reordered on the way.
 */
export class DatagramProtocol<
  T extends IUDPTransport = IUDPTransport,
> implements IDatagramProtocol {
  #transport: T | null = null;

  /** The port's transport. @throws Error before `makeConnection()`. */
  get transport(): T {
    if (this.#transport === null) {
      throw new Error(
        `${this.constructor.name} has no transport yet: it is not listening (wait for startProtocol())`,
      );
    }
    return this.#transport;
  }

  /** True once a transport is attached (it stays attached after the port stops). */
  get hasTransport(): boolean {
    return this.#transport !== null;
  }

  /** Attaches the port's transport. Called by the port, before {@link DatagramProtocol.startProtocol}. */
  makeConnection(transport: IUDPTransport): void {
    this.#transport = transport as T;
  }

  /** The port is bound and `transport` can send. Override to send a first datagram or join a group. */
  startProtocol(): void {}

  /** The port has stopped listening; nothing more arrives. */
  stopProtocol(): void {}

  /**
   * One datagram arrived from `address`. An exception is logged and costs
   * only this datagram.
   */
  datagramReceived(data: Buffer, address: INETAddress): void {
    void data;
    void address;
  }

  /**
   * On a connected transport: the peer's port is closed (an ICMP port
   * unreachable came back for a datagram sent there). Delivery is not
   * guaranteed: the ICMP message can itself be lost or filtered.
   */
  connectionRefused(): void {}
}
