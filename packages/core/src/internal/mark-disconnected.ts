/**
 * Clears a protocol's `connected` flag before its `connectionLost` runs, so the
 * real transport and every test double agree on what `connected` means.
 *
 * Tests: test/protocol.test.ts, test/testing/io-pump.test.ts
 * @module
 */
import type { IProtocol } from '../interfaces.js';

/** Sets `protocol.connected = false` when the protocol has that flag (a `Protocol` subclass does). */
export function markDisconnected(protocol: IProtocol): void {
  if ('connected' in protocol) (protocol as { connected: unknown }).connected = false;
}
