/**
 * `RecordingDatagramProtocol`: a datagram protocol that records what happens
 * to it, so a test can wait for datagrams (`await protocol.waitForDatagrams(2)`)
 * and then assert on them, on any reactor.
 *
 * Tests: test/testing/recording-datagram-protocol.test.ts
 * @module
 */
import type { INETAddress } from '../address.js';
import { DatagramProtocol } from '../datagram-protocol.js';
import { Eventual } from './eventual.js';

/** One datagram as a {@link RecordingDatagramProtocol} received it. */
export interface ReceivedDatagram {
  readonly data: Buffer;
  readonly address: INETAddress;
}

/**
 * Records every callback: the datagrams with their addresses, and
 * `startProtocol` / `stopProtocol` / `connectionRefused` in order.
 * {@link RecordingDatagramProtocol.started}, {@link RecordingDatagramProtocol.stopped},
 * {@link RecordingDatagramProtocol.refused} and
 * {@link RecordingDatagramProtocol.waitForDatagrams} let a test wait for them.
 * Subclass it to add behaviour and call `super` in each override.
 */
export class RecordingDatagramProtocol extends DatagramProtocol {
  /** Callback names in the order they ran (`'startProtocol'`, `'datagramReceived'`, ...). */
  readonly events: string[] = [];
  /** Every datagram received, in order. */
  readonly datagrams: ReceivedDatagram[] = [];
  /** Settled by the first `startProtocol`. */
  readonly started = new Eventual<this>();
  /** Settled by the first `stopProtocol`. */
  readonly stopped = new Eventual<this>();
  /** Settled by the first `connectionRefused`. */
  readonly refused = new Eventual<this>();
  #waiters: { count: number; ready: Eventual<void> }[] = [];

  override startProtocol(): void {
    this.events.push('startProtocol');
    this.started.callback(this);
  }

  override stopProtocol(): void {
    this.events.push('stopProtocol');
    this.stopped.callback(this);
    for (const w of this.#waiters) w.ready.callback();
    this.#waiters = [];
  }

  override datagramReceived(data: Buffer, address: INETAddress): void {
    this.events.push('datagramReceived');
    this.datagrams.push({ data, address });
    this.#waiters = this.#waiters.filter((w) => {
      if (this.datagrams.length < w.count) return true;
      w.ready.callback();
      return false;
    });
  }

  override connectionRefused(): void {
    this.events.push('connectionRefused');
    this.refused.callback(this);
  }

  /** The datagrams received so far, as UTF-8. */
  texts(): string[] {
    return this.datagrams.map((d) => d.data.toString());
  }

  /**
   * Resolves with the datagrams once at least `count` have arrived.
   * @throws Error (rejects) if the port stops first.
   */
  async waitForDatagrams(count: number): Promise<ReceivedDatagram[]> {
    if (this.datagrams.length < count && !this.stopped.called) {
      const ready = new Eventual<void>();
      this.#waiters.push({ count, ready });
      await ready;
    }
    if (this.datagrams.length < count) {
      throw new Error(
        `port stopped after ${String(this.datagrams.length)} of ${String(count)} expected datagrams`,
      );
    }
    return this.datagrams;
  }
}
