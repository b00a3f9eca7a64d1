/**
 * `AsyncChat`: Python's `asynchat.async_chat` model as a Torsion protocol, for
 * command/response protocols (SMTP, NNTP, POP3 style): input is split at a
 * terminator that may change between frames, output is a FIFO of data and
 * producers drained only as fast as the transport sends.
 *
 * Tests: test/async-chat.test.ts
 * @module
 */
import type {
  Failure,
  IConsumer,
  IProtocolFactory,
  IPullProducer,
  ITransport,
} from '@torsion/core';
import { FramingReceiver } from './framing-receiver.js';
import { log } from './internal/log.js';
import { PartList } from './internal/part-list.js';
import {
  CLOSE_WHEN_DONE,
  DEFAULT_CHUNK_SIZE,
  ProducerFifo,
  type IChatProducer,
} from './producer-fifo.js';
import { FOUND_TERMINATOR, TerminatorDecoder, type Terminator } from './terminator-decoder.js';

/**
 * A command/response protocol in the asynchat style.
 *
 * @remarks
 * Input: data up to the terminator goes to {@link AsyncChat.collectIncomingData}
 * (possibly in several pieces), then {@link AsyncChat.foundTerminator} is
 * called. Change the terminator from `foundTerminator` to switch between
 * line commands and counted or dot-terminated bodies. The default collector
 * keeps at most `MAX_LENGTH` bytes; {@link AsyncChat.takeIncomingData}
 * returns them.
 *
 * Output: {@link AsyncChat.push}, {@link AsyncChat.pushWithProducer} and
 * {@link AsyncChat.closeWhenDone} queue in order. On a transport that accepts
 * producers (TCP), the queue is registered as a pull producer and each time
 * the transport's buffer drains it writes one chunk of at most
 * `outChunkSize` bytes, so a huge reply never floods memory or holds the
 * event loop, and pipelined commands get their answers in order. On a
 * transport without `registerProducer`, everything is written at once.
 *
 * Delivery, pausing, re-entrancy and exceptions follow
 * {@link FramingReceiver}'s rules. An exception thrown by a callback, or by a
 * producer's `more()`, is not caught: the queue is dropped and the exception
 * propagates to the caller (the transport, when it was delivering data or
 * asking for output, which logs it once and aborts the connection).
 */
export abstract class AsyncChat<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends FramingReceiver<F, T> {
  /** The most bytes the default collector keeps for one frame. Default 65536. */
  MAX_LENGTH = 65_536;
  /** The most bytes written per transport drain (asynchat's `ac_out_buffer_size`). */
  outChunkSize = DEFAULT_CHUNK_SIZE;

  readonly #decoder = new TerminatorDecoder();
  readonly #fifo = new ProducerFifo();
  readonly #incoming = new PartList();
  #overflowed = false;
  #writer: ChatWriter | null = null;

  /** The current terminator: a Buffer, the bytes still to count, or `null`. */
  getTerminator(): Buffer | number | null {
    return this.#decoder.terminator;
  }

  /**
   * Sets what ends the next frame: a byte string, a number of bytes, or
   * `null` (everything until the connection closes is data). Takes effect
   * immediately, for bytes already received too.
   * @throws RangeError for a negative count or an empty byte string.
   */
  setTerminator(terminator: Terminator): void {
    this.#decoder.setTerminator(terminator);
  }

  /**
   * Data of the current frame arrived (never empty; a frame may come in
   * several pieces). The default keeps it for {@link AsyncChat.takeIncomingData},
   * up to `MAX_LENGTH` bytes per frame; past that it calls
   * {@link AsyncChat.lengthLimitExceeded} once and drops the rest of the frame.
   */
  collectIncomingData(data: Buffer): void {
    if (this.#overflowed) return;
    if (this.#incoming.length + data.length > this.MAX_LENGTH) {
      this.#overflowed = true;
      const length = this.#incoming.length + data.length;
      this.#incoming.clear();
      this.lengthLimitExceeded(length);
      return;
    }
    this.#incoming.push(data);
  }

  /**
   * Returns what the default collector kept for the current frame, and
   * starts the next one. Call it from {@link AsyncChat.foundTerminator}.
   */
  takeIncomingData(): Buffer {
    const data = this.#incoming.take();
    this.#overflowed = false;
    return data;
  }

  /**
   * The default collector was offered more than `MAX_LENGTH` bytes for one
   * frame. The default logs it and drops the connection.
   * @param length - how many bytes the frame had reached.
   */
  lengthLimitExceeded(length: number): void {
    log.warn(`${this.constructor.name}: dropping a peer whose frame exceeds MAX_LENGTH`, {
      protocol: this.constructor.name,
      length,
      maxLength: this.MAX_LENGTH,
    });
    this.transport.loseConnection();
  }

  /** The terminator was reached: the current frame is complete. */
  abstract foundTerminator(): void;

  /** Buffers `data` for splitting at the terminator. */
  protected override bufferReceived(data: Buffer): void {
    this.#decoder.push(data);
  }

  /**
   * Drops everything buffered, and the part of the current frame the default
   * collector kept (it arrived in plaintext too; see
   * {@link FramingReceiver.tlsStarting}).
   */
  protected override discardBuffered(): number {
    const collected = this.#incoming.length;
    this.#incoming.clear();
    this.#overflowed = false;
    return this.#decoder.reset() + collected;
  }

  /** Delivers the next piece of frame data, or the end of a frame. */
  protected override deliverNext(): boolean {
    const item = this.#decoder.next();
    if (item === null) return false;
    if (item === FOUND_TERMINATOR) this.foundTerminator();
    else this.collectIncomingData(item);
    return true;
  }

  /**
   * Queues `data` to send after everything queued before it.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  push(data: Uint8Array | string): void {
    this.#fifo.push(data);
    this.#startWriting();
  }

  /**
   * Queues a producer: its `more()` is called for the next chunk only when
   * everything before it was sent and the transport wants more, until it
   * returns an empty chunk.
   */
  pushWithProducer(producer: IChatProducer): void {
    this.#fifo.pushProducer(producer);
    this.#startWriting();
  }

  /** Closes the connection (`loseConnection()`) once everything queued so far was sent. */
  closeWhenDone(): void {
    this.#fifo.pushClose();
    this.#startWriting();
  }

  /** Drops everything queued for sending. */
  discardBuffers(): void {
    this.#fifo.clear();
    this.#decoder.clear();
    this.takeIncomingData();
  }

  /**
   * The connection is gone: whatever is still queued is dropped. Subclasses
   * overriding it should call `super.connectionLost(reason)`.
   */
  override connectionLost(reason: Failure): void {
    void reason;
    this.#fifo.clear();
    if (this.#writer !== null) this.#writer.active = false;
    this.#writer = null;
  }

  #startWriting(): void {
    if (this.#writer !== null) return;
    const transport = this.transport;
    const consumer = transport as Partial<IConsumer>;
    if (typeof consumer.registerProducer !== 'function') {
      this.#writeEverything(transport);
      return;
    }
    const writer = new ChatWriter(
      this.#fifo,
      transport,
      () => this.outChunkSize,
      () => {
        if (this.#writer === writer) this.#writer = null;
      },
    );
    this.#writer = writer;
    try {
      consumer.registerProducer(writer, false);
    } catch (err) {
      // A transport that pulls at once may have pulled a failing producer:
      // that is the producer's error, not a refused registration.
      if (writer.pulled) throw err;
      // Someone else's producer is registered: fall back to writing directly.
      this.#writer = null;
      log.failure(`${this.constructor.name}: could not register its output producer`, err, {
        protocol: this.constructor.name,
      });
      this.#writeEverything(transport);
      return;
    }
    // Twisted's transports pull a registered pull producer at once; others
    // wait for a drain. Either way the first chunk goes out now, exactly once.
    if (!writer.pulled && writer.active) writer.resumeProducing();
  }

  #writeEverything(transport: ITransport): void {
    try {
      for (
        let chunk = this.#fifo.take(this.outChunkSize);
        chunk !== null;
        chunk = this.#fifo.take(this.outChunkSize)
      ) {
        if (chunk === CLOSE_WHEN_DONE) {
          this.#fifo.clear();
          transport.loseConnection();
          return;
        }
        transport.write(chunk);
      }
    } catch (err) {
      // What follows a failed producer cannot be sent in order: drop it.
      this.#fifo.clear();
      throw err;
    }
  }
}

/** The pull producer that drains an AsyncChat's queue into its transport. */
class ChatWriter implements IPullProducer {
  active = true;
  pulled = false;

  constructor(
    readonly fifo: ProducerFifo,
    readonly transport: ITransport,
    readonly chunkSize: () => number,
    readonly onFinished: () => void,
  ) {}

  resumeProducing(): void {
    this.pulled = true;
    if (!this.active) return;
    let chunk: Buffer | typeof CLOSE_WHEN_DONE | null;
    try {
      chunk = this.fifo.take(this.chunkSize());
    } catch (err) {
      // What follows a failed producer cannot be sent in order: drop it, and
      // let the caller (usually the transport) log the error and abort.
      this.#finish();
      this.fifo.clear();
      throw err;
    }
    if (chunk === null) {
      this.#finish();
    } else if (chunk === CLOSE_WHEN_DONE) {
      this.#finish();
      this.fifo.clear();
      this.transport.loseConnection();
    } else {
      this.transport.write(chunk);
    }
  }

  stopProducing(): void {
    this.active = false;
    this.fifo.clear();
    this.onFinished();
  }

  #finish(): void {
    this.active = false;
    this.onFinished();
    (this.transport as Partial<IConsumer>).unregisterProducer?.();
  }
}
