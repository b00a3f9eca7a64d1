/**
 * `IntNStringReceiver` and its three concrete forms, `Int8StringReceiver`,
 * `Int16StringReceiver` and `Int32StringReceiver`: protocols that exchange
 * strings framed by a big-endian length prefix, byte-compatible with Twisted's
 * classes of the same names.
 *
 * Tests: test/int-string-receiver.test.ts
 * @module
 */
import type { IProtocolFactory, ITransport } from '@torsion/core';
import { FramingReceiver } from './framing-receiver.js';
import { DEFAULT_MAX_STRING_LENGTH } from './netstring-decoder.js';
import {
  IntStringDecoder,
  LengthLimitExceeded,
  encodeIntString,
  type PrefixLength,
} from './int-string-decoder.js';

/**
 * Receives and sends length-prefixed strings; the subclasses fix the prefix size.
 *
 * @remarks
 * A prefix announcing more than `MAX_LENGTH` bytes calls
 * {@link IntNStringReceiver.lengthLimitExceeded} before any of the payload is
 * buffered; the stream cannot be resynchronised after that, so nothing more is
 * delivered even if the connection is kept. Delivery, pausing, re-entrancy
 * and exceptions follow {@link FramingReceiver}'s rules: an exception from a
 * callback propagates to the transport, which logs it once and aborts the
 * connection.
 */
export abstract class IntNStringReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends FramingReceiver<F, T> {
  /** The longest payload accepted, in bytes. Default 99999, as Twisted. */
  MAX_LENGTH: number = DEFAULT_MAX_STRING_LENGTH;

  readonly #decoder: IntStringDecoder;

  /** @param prefixLength - the size of the length prefix, in bytes. */
  protected constructor(prefixLength: PrefixLength) {
    super();
    this.#decoder = new IntStringDecoder(prefixLength);
  }

  /** Bytes in the length prefix. */
  get prefixLength(): PrefixLength {
    return this.#decoder.prefixLength;
  }

  /** A string arrived; `payload` is its content without the prefix. */
  abstract stringReceived(payload: Buffer): void;

  /**
   * The peer announced a string longer than `MAX_LENGTH`. The default drops
   * the connection.
   * @param length - the announced length.
   */
  lengthLimitExceeded(length: number): void {
    void length;
    this.transport.loseConnection();
  }

  /**
   * Sends `payload` with its length prefix, in one write.
   * @throws StringTooLongError if the payload does not fit the prefix.
   * @throws TypeError if `payload` is neither a Uint8Array nor a string.
   */
  sendString(payload: Uint8Array | string): void {
    this.transport.write(encodeIntString(payload, this.#decoder.prefixLength));
  }

  /** Buffers `data` for parsing. */
  protected override bufferReceived(data: Buffer): void {
    this.#decoder.push(data);
  }

  /** Drops everything buffered, partial prefix and payload included (see {@link FramingReceiver.tlsStarting}). */
  protected override discardBuffered(): number {
    return this.#decoder.reset();
  }

  /** Delivers the next string, or reports an over-long one. */
  protected override deliverNext(): boolean {
    const decoder = this.#decoder;
    if (this.MAX_LENGTH !== decoder.maxLength) decoder.setMaxLength(this.MAX_LENGTH);
    const item = decoder.next();
    if (item === null) return false;
    if (item instanceof LengthLimitExceeded) this.lengthLimitExceeded(item.length);
    else this.stringReceived(item);
    return true;
  }
}

/** Strings prefixed by one length byte (at most 255 bytes). */
export abstract class Int8StringReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends IntNStringReceiver<F, T> {
  constructor() {
    super(1);
  }
}

/** Strings prefixed by a big-endian 16-bit length (at most 65535 bytes). */
export abstract class Int16StringReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends IntNStringReceiver<F, T> {
  constructor() {
    super(2);
  }
}

/** Strings prefixed by a big-endian 32-bit length. */
export abstract class Int32StringReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends IntNStringReceiver<F, T> {
  constructor() {
    super(4);
  }
}
