/**
 * `NetstringReceiver`: a protocol that exchanges netstrings
 * (`<length>:<payload>,`), byte-compatible with Twisted's
 * `basic.NetstringReceiver`.
 *
 * Tests: test/netstring-receiver.test.ts
 * @module
 */
import type { IProtocolFactory, ITransport } from '@torsion/core';
import { FramingReceiver } from './framing-receiver.js';
import { log } from './internal/log.js';
import { NetstringParseError } from './errors.js';
import {
  DEFAULT_MAX_STRING_LENGTH,
  NetstringDecoder,
  encodeNetstring,
} from './netstring-decoder.js';

/**
 * Receives and sends netstrings.
 *
 * @remarks
 * A malformed netstring, or one announcing more than `MAX_LENGTH` bytes,
 * logs a warning with the reason and drops the connection
 * (`loseConnection()`); nothing after it is delivered. Delivery, pausing,
 * re-entrancy and exceptions follow {@link FramingReceiver}'s rules: an
 * exception from `stringReceived` propagates to the transport, which logs it
 * once and aborts the connection.
 */
export abstract class NetstringReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends FramingReceiver<F, T> {
  /** The longest payload accepted, in bytes. Default 99999, as Twisted. */
  MAX_LENGTH: number = DEFAULT_MAX_STRING_LENGTH;

  readonly #decoder = new NetstringDecoder();

  /** True once the peer sent something that is not a netstring. */
  get brokenPeer(): boolean {
    return this.#decoder.broken;
  }

  /** A netstring arrived; `payload` is its content without the framing. */
  abstract stringReceived(payload: Buffer): void;

  /**
   * Sends `payload` as a netstring, in one write.
   * @throws TypeError if `payload` is neither a Uint8Array nor a string.
   */
  sendString(payload: Uint8Array | string): void {
    this.transport.write(encodeNetstring(payload));
  }

  /** Buffers `data` for parsing. */
  protected override bufferReceived(data: Buffer): void {
    this.#decoder.push(data);
  }

  /** Drops everything buffered, a partial netstring included (see {@link FramingReceiver.tlsStarting}). */
  protected override discardBuffered(): number {
    return this.#decoder.reset();
  }

  /** Delivers the next netstring; a malformed one drops the peer. */
  protected override deliverNext(): boolean {
    const decoder = this.#decoder;
    if (this.MAX_LENGTH !== decoder.maxLength) decoder.setMaxLength(this.MAX_LENGTH);
    const item = decoder.next();
    if (item === null) return false;
    if (item instanceof NetstringParseError) {
      log.warn(`${this.constructor.name}: dropping a peer that sent a bad netstring`, {
        protocol: this.constructor.name,
        reason: item.message,
        code: item.code,
      });
      this.transport.loseConnection();
      return false;
    }
    this.stringReceived(item);
    return true;
  }
}
