/**
 * `RecordingProtocol`: a protocol that records what happens to it, so a test
 * can wait for an event (`await protocol.lost`) and then assert on the history.
 *
 * Tests: test/testing/recording-protocol.test.ts
 * @module
 */
import type { Factory } from '../factory.js';
import type { Failure } from '../failure.js';
import type { ITCPTransport } from '../interfaces.js';
import { Protocol } from '../protocol.js';
import { Eventual } from './eventual.js';

/**
 * Where a {@link RecordingProtocol} sends received data instead of keeping
 * it: for transfers too big to hold, checked as they stream in.
 */
export interface DataSink {
  /** One chunk, as `dataReceived` got it. */
  feed(data: Buffer): void;
}

/**
 * Records every callback: the chunks received, how many bytes, and
 * `connectionMade` / `connectionLost` with the reason. {@link RecordingProtocol.made},
 * {@link RecordingProtocol.lost} and {@link RecordingProtocol.waitForBytes} let
 * a test wait for them.
 *
 * @remarks
 * Subclass it to add behaviour and call `super` in each override, so the
 * record stays complete. It works over any transport: a real socket, a
 * `StringTransport`, or `connectedServerAndClient`.
 *
 * @example
 * ```ts
 * const { client, server, pump } = connectedServerAndClient(
 *   () => new EchoingProtocol(),
 *   () => new RecordingProtocol(),
 * );
 * client.transport.write('hi');
 * pump.flush();
 * expect(client.text()).to.equal('hi');
 * ```
 */
export class RecordingProtocol extends Protocol<Factory, ITCPTransport> {
  /** Callback names in the order they ran (`'connectionMade'`, `'connectionLost'`, ...). */
  readonly events: string[] = [];
  /** Every chunk received, in order (none while a {@link RecordingProtocol.sink} is set). */
  readonly chunks: Buffer[] = [];
  /** Called with this protocol by `connectionMade`. */
  readonly made = new Eventual<this>();
  /** Called with the reason by the first `connectionLost`. */
  readonly lost = new Eventual<Failure>();
  /** The reason `connectionLost` was given; null until then. */
  reason: Failure | null = null;
  /** How many times `connectionLost` ran (a transport must call it exactly once). */
  lostCount = 0;
  /** When set, each chunk goes to it instead of into {@link RecordingProtocol.chunks}. */
  sink: DataSink | null = null;
  #byteCount = 0;
  #waiters: { bytes: number; ready: Eventual<void> }[] = [];

  /** Bytes received so far (counted even while a sink is set). */
  get byteCount(): number {
    return this.#byteCount;
  }

  /** Records the call and settles {@link RecordingProtocol.made}. */
  override connectionMade(): void {
    this.events.push('connectionMade');
    this.made.callback(this);
  }

  /** Keeps (or sinks) the chunk, counts it, and wakes byte waiters that are satisfied. */
  override dataReceived(data: Buffer): void {
    this.#byteCount += data.length;
    if (this.sink === null) this.chunks.push(data);
    else this.sink.feed(data);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#byteCount < w.bytes) return true;
      w.ready.callback();
      return false;
    });
  }

  /** Records the call and its reason, and settles {@link RecordingProtocol.lost}. */
  override connectionLost(reason: Failure): void {
    this.events.push('connectionLost');
    this.lostCount++;
    this.reason = reason;
    this.lost.callback(reason);
    // Nothing more will arrive: wake every waiter so it can report the shortfall.
    for (const w of this.#waiters) w.ready.callback();
    this.#waiters = [];
  }

  /** Everything received so far, in one Buffer (empty while a sink is set). */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** What was received, as UTF-8. */
  text(): string {
    return this.received().toString();
  }

  /**
   * Resolves with {@link RecordingProtocol.received} once at least `bytes`
   * bytes have arrived in total.
   * @throws Error (rejects) if the connection is lost first.
   */
  async waitForBytes(bytes: number): Promise<Buffer> {
    if (this.#byteCount < bytes && !this.lost.called) {
      const ready = new Eventual<void>();
      this.#waiters.push({ bytes, ready });
      await ready;
    }
    if (this.#byteCount < bytes) {
      throw new Error(
        `connection lost after ${String(this.#byteCount)} of ${String(bytes)} expected bytes`,
      );
    }
    return this.received();
  }
}
