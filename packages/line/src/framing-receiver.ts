/**
 * `FramingReceiver`: the protocol layer every framing receiver shares (the
 * delivery loop, pausing, re-entrancy and what happens when a callback
 * throws), so each receiver only says how bytes become frames.
 *
 * Tests: test/framing-receiver.test.ts, test/starttls.test.ts (and each receiver's own tests)
 * @module
 */
import { Protocol } from '@torsion/core';
import type { IProtocolFactory, ITLSStartingListener, ITransport } from '@torsion/core';
import { log } from './internal/log.js';

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
 * - When the connection switches to TLS (`transport.startTLS()`, which calls
 *   {@link FramingReceiver.tlsStarting}), every byte received and not yet
 *   delivered is dropped, including the rest of the chunk being delivered,
 *   with a warning giving the count: those bytes came in plaintext, after
 *   the point where the switch was asked for, and must never be handled as
 *   if TLS had protected them (STARTTLS command injection, CVE-2011-0411).
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
 *   protected override discardBuffered(): number {
 *     return this.#pending.splice(0).length;
 *   }
 *   byteReceived(byte: number): void {}
 * }
 * ```
 */
export abstract class FramingReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
>
  extends Protocol<F, T>
  implements ITLSStartingListener
{
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
   * The connection is switching to TLS: drops every byte received and not
   * delivered yet (what is left of the chunk being delivered included, so a
   * line pipelined after `STARTTLS` never reaches `lineReceived`), and logs a
   * warning on `torsion.line` with the number of bytes dropped, if any.
   * Bytes received from now on (decrypted by the transport) are delivered as
   * usual.
   *
   * @remarks The transport calls it from inside `startTLS()`; you need not.
   * It drops rather than closing the connection: a well-behaved peer sends
   * nothing between its command and its handshake, so it loses nothing,
   * while bytes a man in the middle slipped in are never acted upon. Plaintext
   * arriving after the switch goes to the TLS engine, where it fails the
   * handshake.
   */
  tlsStarting(): void {
    const dropped = this.discardBuffered();
    if (dropped > 0) {
      log.warn(
        `${this.constructor.name}: dropped ${dropped} bytes received in plaintext before the switch to TLS`,
        { protocol: this.constructor.name, bytes: dropped },
      );
    }
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
   * Forgets every byte received and not delivered yet, including any partly
   * received frame, so that {@link FramingReceiver.deliverNext} has nothing
   * left to deliver; called by {@link FramingReceiver.tlsStarting}, possibly
   * from inside a callback that {@link FramingReceiver.deliverNext} made.
   * @returns how many bytes were dropped.
   */
  protected abstract discardBuffered(): number;

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
