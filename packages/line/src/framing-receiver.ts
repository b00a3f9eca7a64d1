/**
 * `FramingReceiver`: the protocol layer every framing receiver shares (the
 * delivery loop, pausing, re-entrancy and what happens when a callback
 * throws), so each receiver only says how bytes become frames.
 *
 * Tests: test/framing-receiver.test.ts (and each receiver's own tests)
 * @module
 */
import { Protocol } from '@torsion/core';
import type { IProtocolFactory, ITransport } from '@torsion/core';

/** The transport's reading side, when it can be paused (TCP can; a bare ITransport need not). */
interface PausableReads {
  pauseProducing?: () => void;
  resumeProducing?: () => void;
  stopProducing?: () => void;
}

/**
 * A protocol that buffers received bytes in a pure decoder and delivers
 * complete frames to user callbacks. `LineReceiver`, `LineOnlyReceiver`,
 * `NetstringReceiver`, the `Int8/16/32StringReceiver`s and `AsyncChat` extend
 * it; extend it yourself for a framing of your own.
 *
 * @remarks
 * The rules every receiver follows:
 * - Delivery stops as soon as the transport is disconnecting: after
 *   `loseConnection()` from a callback, nothing more from the same chunk is
 *   delivered.
 * - {@link FramingReceiver.pauseProducing} holds delivery (bytes wait in the
 *   decoder) and pauses the transport's reads;
 *   {@link FramingReceiver.resumeProducing} delivers what waited first.
 * - A `dataReceived` (or `resumeProducing`) call made from inside a callback
 *   only buffers; the delivery already running delivers it, so order is kept.
 * - An exception thrown by a callback is not caught: it propagates to
 *   whoever called in. From `dataReceived`, that is the transport, which logs
 *   it once with its stack and aborts that connection only, with
 *   `ConnectionLost` (whose `cause` is the exception) as the reason, exactly
 *   as for any other protocol. Frames still buffered are not delivered.
 *
 * @example
 * A framing where every frame is one byte:
 * ```ts
 * class ByteReceiver extends FramingReceiver {
 *   #pending: number[] = [];
 *   protected override bufferReceived(data: Buffer): void {
 *     this.#pending.push(...data);
 *   }
 *   protected override deliverNext(): boolean {
 *     const byte = this.#pending.shift();
 *     if (byte === undefined) return false;
 *     this.byteReceived(byte);
 *     return true;
 *   }
 *   byteReceived(byte: number): void {}
 * }
 * ```
 */
export abstract class FramingReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends Protocol<F, T> {
  #paused = false;
  // True while deliverNext() runs further up the stack: nested calls only
  // buffer, so frames are delivered in order (Twisted's _busyReceiving).
  #busy = false;

  /** True between {@link FramingReceiver.pauseProducing} and {@link FramingReceiver.resumeProducing}. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Buffers `data` and delivers every complete frame, unless paused. */
  override dataReceived(data: Buffer): void {
    this.bufferReceived(data);
    if (!this.#busy) this.#deliver();
  }

  /**
   * Holds delivery until {@link FramingReceiver.resumeProducing}: bytes wait
   * in the buffer. Also pauses the transport's reading, when it can.
   */
  pauseProducing(): void {
    this.#paused = true;
    (this.transport as PausableReads).pauseProducing?.();
  }

  /** Resumes delivery (of what was buffered first) and the transport's reading. */
  resumeProducing(): void {
    this.#paused = false;
    (this.transport as PausableReads).resumeProducing?.();
    if (!this.#busy) this.#deliver();
  }

  /** Stops delivering for good and tells the transport to stop producing. */
  stopProducing(): void {
    this.#paused = true;
    (this.transport as PausableReads).stopProducing?.();
  }

  /**
   * Adds received bytes to the decoder; delivers nothing.
   * @param data - as received; keep it by reference only if the decoder never mutates it.
   */
  protected abstract bufferReceived(data: Buffer): void;

  /**
   * Delivers the next buffered frame, or several while nothing that
   * {@link FramingReceiver.deliverNext} depends on changes (a long run of
   * lines is drained in one call).
   * @returns false when no complete frame is buffered, or when delivery must
   *   stop for another reason (a fatal framing error); true to be called again.
   * @remarks Called only while not paused and the transport is not
   * disconnecting; an implementation delivering several frames per call
   * checks both itself between frames.
   */
  protected abstract deliverNext(): boolean;

  /**
   * Delivers what is buffered now, unless a delivery is already running
   * further up the stack (which will deliver it). For methods that put bytes
   * back into the buffer, such as `LineReceiver.setLineMode(extra)`.
   */
  protected deliverBuffered(): void {
    if (!this.#busy && this.hasTransport) this.#deliver();
  }

  #deliver(): void {
    const transport = this.transport;
    this.#busy = true;
    try {
      while (!this.#paused && !transport.disconnecting && this.deliverNext());
    } finally {
      this.#busy = false;
    }
  }
}
