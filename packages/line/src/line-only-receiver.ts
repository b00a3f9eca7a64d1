/**
 * `LineOnlyReceiver`: the fastest way to receive lines, for protocols that
 * never switch to raw data (Twisted's `basic.LineOnlyReceiver`).
 *
 * Tests: test/line-only-receiver.test.ts
 * @module
 */
import type { IProtocolFactory, ITransport } from '@torsion/core';
import { FramingReceiver } from './framing-receiver.js';
import { toBuffer } from './internal/bytes.js';
import { DEFAULT_MAX_LINE_LENGTH, LineDecoder, LineTooLong } from './line-decoder.js';

/**
 * Receives lines only: no raw mode, so the loop per chunk is as short as it
 * gets.
 *
 * @remarks
 * It follows exactly the same rules as `LineReceiver` (they share
 * {@link LineDecoder} and {@link FramingReceiver}), where Twisted's two
 * classes disagree: the same `MAX_LENGTH` threshold, the same argument to
 * `lineLengthExceeded`, delivery stopping once the transport is
 * disconnecting, pausing, re-entrant `dataReceived` only buffering, and an
 * exception from a callback propagating to the transport, which logs it once
 * and aborts the connection.
 */
export abstract class LineOnlyReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends FramingReceiver<F, T> {
  /** What ends a line. Default `"\r\n"`. */
  delimiter: Uint8Array | string = '\r\n';
  /** The longest line accepted, in bytes, delimiter not counted. Default 16384. */
  MAX_LENGTH: number = DEFAULT_MAX_LINE_LENGTH;

  readonly #decoder = new LineDecoder();
  #appliedDelimiter: Uint8Array | string = '\r\n';
  #appliedMaxLength = DEFAULT_MAX_LINE_LENGTH;

  /** A line arrived, without its delimiter. */
  abstract lineReceived(line: Buffer): void;

  /**
   * A line longer than `MAX_LENGTH` arrived; the default drops the connection.
   * @param line - as for `LineReceiver.lineLengthExceeded`.
   */
  lineLengthExceeded(line: Buffer): void {
    void line;
    this.transport.loseConnection();
  }

  /** Buffers `data` for splitting into lines. */
  protected override bufferReceived(data: Buffer): void {
    this.#decoder.push(data);
  }

  /** Delivers a run of lines. */
  protected override deliverNext(): boolean {
    if (this.delimiter !== this.#appliedDelimiter) this.#applyDelimiter();
    if (this.MAX_LENGTH !== this.#appliedMaxLength) {
      this.#decoder.setMaxLength(this.MAX_LENGTH);
      this.#appliedMaxLength = this.MAX_LENGTH;
    }
    return this.#decoder.drain(this.#sink);
  }

  /** Drops everything buffered, partial line included (see {@link FramingReceiver.tlsStarting}). */
  protected override discardBuffered(): number {
    return this.#decoder.reset();
  }

  // Delivers one item; returns false when deliverNext must look at the pause
  // state, the connection or the settings before the next line.
  readonly #sink = (item: Buffer | LineTooLong): boolean => {
    if (item instanceof LineTooLong) this.lineLengthExceeded(item.line);
    else this.lineReceived(item);
    return (
      !this.paused &&
      !this.transport.disconnecting &&
      this.delimiter === this.#appliedDelimiter &&
      this.MAX_LENGTH === this.#appliedMaxLength
    );
  };

  /**
   * Sends `line` followed by the delimiter, in one write.
   * @throws TypeError if `line` is neither a Uint8Array nor a string.
   */
  sendLine(line: Uint8Array | string): void {
    if (this.delimiter !== this.#appliedDelimiter) this.#applyDelimiter();
    const body = toBuffer(line, 'line');
    const end = this.#decoder.delimiter;
    this.transport.write(Buffer.concat([body, end], body.length + end.length));
  }

  #applyDelimiter(): void {
    this.#decoder.setDelimiter(this.delimiter);
    this.#appliedDelimiter = this.delimiter;
  }
}
