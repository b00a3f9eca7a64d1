/**
 * Example: a key-value store speaking netstrings. Each request and each reply
 * is one netstring, so values may contain any bytes, CRLF and commas included.
 *
 * Tested by test/examples.test.ts.
 */
import { Factory } from '@torsion/core';
import { NetstringReceiver } from '@torsion/line';

/** A store shared by every connection of one factory. */
export class KeyValueFactory extends Factory {
  readonly store = new Map<string, Buffer>();
}

/** `SET <key> <value>` → `OK`; `GET <key>` → the value or `MISSING`. */
export class KeyValueProtocol extends NetstringReceiver<KeyValueFactory> {
  override stringReceived(request: Buffer): void {
    const store = this.factory?.store ?? new Map<string, Buffer>();
    const firstSpace = request.indexOf(0x20);
    const verb = request.subarray(0, firstSpace === -1 ? request.length : firstSpace).toString();
    const rest = firstSpace === -1 ? Buffer.alloc(0) : request.subarray(firstSpace + 1);
    if (verb === 'SET') {
      const keyEnd = rest.indexOf(0x20);
      if (keyEnd === -1) return this.sendString('ERR SET needs a key and a value');
      store.set(rest.subarray(0, keyEnd).toString(), Buffer.from(rest.subarray(keyEnd + 1)));
      this.sendString('OK');
    } else if (verb === 'GET') {
      this.sendString(store.get(rest.toString()) ?? 'MISSING');
    } else {
      this.sendString('ERR unknown verb');
    }
  }
}

/** The factory to listen with. */
export function keyValueFactory(): KeyValueFactory {
  const factory = new KeyValueFactory();
  factory.protocol = KeyValueProtocol;
  return factory;
}
