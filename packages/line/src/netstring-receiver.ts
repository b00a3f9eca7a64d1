/**
 * `NetstringReceiver`: a protocol that exchanges netstrings
 * (`<length>:<payload>,`), byte-compatible with Twisted's
 * `basic.NetstringReceiver`.
 *
 * Tests: test/netstring-receiver.test.ts
 * @module
 */
import { Protocol } from '@torsion/core';
import type { IProtocolFactory, ITransport } from '@torsion/core';
import { callbackFailed, log } from './internal/callbacks.js';
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
 * (`loseConnection()`); nothing after it is delivered. Delivery also stops
 * once the transport is disconnecting, re-entrant `dataReceived` calls only
 * buffer, and an exception thrown by `stringReceived` is logged and drops the
 * connection.
 */
export abstract class NetstringReceiver<
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> extends Protocol<F, T> {
  /** The longest payload accepted, in bytes. Default 99999, as Twisted. */
  MAX_LENGTH: number = DEFAULT_MAX_STRING_LENGTH;

  readonly #decoder = new NetstringDecoder();
  #busy = false;

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

  /** Parses `data` and delivers every complete netstring. */
  override dataReceived(data: Buffer): void {
    const decoder = this.#decoder;
    decoder.push(data);
    if (this.#busy) return;
    const transport = this.transport;
    this.#busy = true;
    try {
      while (!transport.disconnecting) {
        if (this.MAX_LENGTH !== decoder.maxLength) decoder.setMaxLength(this.MAX_LENGTH);
        const item = decoder.next();
        if (item === null) break;
        if (item instanceof NetstringParseError) {
          log.warn(`${this.constructor.name}: dropping a peer that sent a bad netstring`, {
            protocol: this.constructor.name,
            reason: item.message,
            code: item.code,
          });
          transport.loseConnection();
          break;
        }
        this.stringReceived(item);
      }
    } catch (err) {
      callbackFailed(this, 'stringReceived', err, transport);
    } finally {
      this.#busy = false;
    }
  }
}
