/**
 * `LineReceiver`: a protocol that receives lines, or raw data, switching
 * between the two at any point of the stream, as Twisted's
 * `twisted.protocols.basic.LineReceiver`.
 *
 * Tests: test/line-receiver.test.ts
 * @module
 */
import type { IProtocolFactory, ITransport } from '@torsion/core';
import { FramingReceiver } from './framing-receiver.js';
import { toBuffer } from './internal/bytes.js';
import { DEFAULT_MAX_LINE_LENGTH, LineDecoder, LineTooLong } from './line-decoder.js';

/**
 * Receives lines (`lineReceived`) or raw data (`rawDataReceived`) depending on
 * its mode, for line-based protocols with binary parts (HTTP bodies, SMTP
 * `BDAT`, a file after a `PUT` command).
 *
 * @remarks
 * - `delimiter` (default `"\r\n"`) and `MAX_LENGTH` (default 16384) are plain
 *   properties: set them in a subclass, or on an instance at any time, even
 *   from inside `lineReceived`; the next line uses them.
 * - Lines longer than `MAX_LENGTH` go to {@link LineReceiver.lineLengthExceeded}
 *   (see {@link LineDecoder} for the exact rule); by default the connection is
 *   dropped.
 * - {@link LineReceiver.setRawMode} and {@link LineReceiver.setLineMode} work
 *   from inside the callbacks: the rest of the bytes already received is
 *   delivered in the new mode, in the same `dataReceived` call.
 * - Delivery, pausing, re-entrancy and exceptions follow
 *   {@link FramingReceiver}'s rules: nothing is delivered once the transport
 *   is disconnecting, and an exception from a callback propagates to the
 *   transport, which logs it once and aborts the connection.
 */
export abstract class LineReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends FramingReceiver<F, T> {
  /** What ends a line, when receiving and in {@link LineReceiver.sendLine}. Default `"\r\n"`. */
  delimiter: Uint8Array | string = '\r\n';
  /** The longest line accepted, in bytes, delimiter not counted. Default 16384. */
  MAX_LENGTH: number = DEFAULT_MAX_LINE_LENGTH;

  readonly #decoder = new LineDecoder();
  #appliedDelimiter: Uint8Array | string = '\r\n';
  #appliedMaxLength = DEFAULT_MAX_LINE_LENGTH;
  #delimiterBytes: Buffer = this.#decoder.delimiter;
  #lineMode = true;

  /** True in line mode, false in raw mode. */
  get lineMode(): boolean {
    return this.#lineMode;
  }

  /**
   * A line arrived, without its delimiter.
   * @param line - may share memory with the received chunk; copy it to keep
   *   it past the chunk's lifetime only if you mutate buffers elsewhere.
   */
  abstract lineReceived(line: Buffer): void;

  /**
   * Raw data arrived (raw mode). Override it if you call
   * {@link LineReceiver.setRawMode}; the default throws, which drops the connection.
   */
  rawDataReceived(data: Buffer): void {
    void data;
    throw new Error(
      `${this.constructor.name} switched to raw mode but does not override rawDataReceived`,
    );
  }

  /**
   * A line longer than `MAX_LENGTH` arrived. The default drops the connection.
   * @param line - the offending bytes, delimiter excluded: the whole line if
   *   its delimiter arrived, else what was buffered when the limit tripped (at
   *   most `MAX_LENGTH` plus one read chunk). If the connection is kept, input
   *   up to the end of that line is discarded and line parsing resumes.
   */
  lineLengthExceeded(line: Buffer): void {
    void line;
    this.transport.loseConnection();
  }

  /** Buffers `data` for splitting into lines (or passing on raw). */
  protected override bufferReceived(data: Buffer): void {
    this.#decoder.push(data);
  }

  /**
   * Sends `line` followed by the delimiter, in one write.
   * @throws TypeError if `line` is neither a Uint8Array nor a string.
   */
  sendLine(line: Uint8Array | string): void {
    this.#applySettings();
    const body = toBuffer(line, 'line');
    const end = this.#delimiterBytes;
    this.transport.write(Buffer.concat([body, end], body.length + end.length));
  }

  /**
   * Switches to raw mode: everything buffered and everything received next
   * goes to {@link LineReceiver.rawDataReceived}.
   */
  setRawMode(): void {
    this.#lineMode = false;
  }

  /**
   * Switches to line mode.
   * @param extra - bytes to parse as lines before anything else not yet
   *   delivered: from `rawDataReceived`, the part of its data that belongs
   *   to the line protocol.
   */
  setLineMode(extra?: Uint8Array | string): void {
    this.#lineMode = true;
    if (extra !== undefined) {
      this.#decoder.unshift(toBuffer(extra, 'extra'));
      this.deliverBuffered();
    }
  }

  /** Drops everything buffered, partial line included (see {@link FramingReceiver.tlsStarting}). */
  protected override discardBuffered(): number {
    return this.#decoder.reset();
  }

  /** Removes and returns everything buffered and not delivered yet (including, inside `lineReceived`, the rest of the current chunk). */
  clearLineBuffer(): Buffer {
    return this.#decoder.clear();
  }

  #applySettings(): void {
    if (this.delimiter !== this.#appliedDelimiter) {
      this.#decoder.setDelimiter(this.delimiter);
      this.#appliedDelimiter = this.delimiter;
      this.#delimiterBytes = this.#decoder.delimiter;
    }
    if (this.MAX_LENGTH !== this.#appliedMaxLength) {
      this.#decoder.setMaxLength(this.MAX_LENGTH);
      this.#appliedMaxLength = this.MAX_LENGTH;
    }
  }

  /** Delivers a run of lines, or the raw data buffered. */
  protected override deliverNext(): boolean {
    if (this.delimiter !== this.#appliedDelimiter || this.MAX_LENGTH !== this.#appliedMaxLength) {
      this.#applySettings();
    }
    const decoder = this.#decoder;
    if (this.#lineMode) return decoder.drain(this.#sink);
    if (decoder.bufferedLength === 0) return false;
    this.rawDataReceived(decoder.clear());
    return true;
  }

  // Delivers one item; returns false when deliverNext must look at the mode,
  // the pause state, the connection or the settings before the next line.
  readonly #sink = (item: Buffer | LineTooLong): boolean => {
    if (item instanceof LineTooLong) this.lineLengthExceeded(item.line);
    else this.lineReceived(item);
    return (
      this.#lineMode &&
      !this.paused &&
      !this.transport.disconnecting &&
      this.delimiter === this.#appliedDelimiter &&
      this.MAX_LENGTH === this.#appliedMaxLength
    );
  };
}
