/**
 * The textbook `Echo` protocol (dataReceived writes the bytes back) that
 * Torsion's benchmark servers serve, counting its open connections for the
 * stdio protocol's `count` (control.ts).
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Protocol } from '@torsion/core';

// A module-level count costs nothing per connection, unlike a Set of protocols.
let open = 0;

/** Echo, counting connections. */
export class CountingEcho extends Protocol {
  override connectionMade(): void {
    open += 1;
  }

  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }

  override connectionLost(): void {
    open -= 1;
  }
}

/** How many CountingEcho connections are open now. */
export function openEchoConnections(): number {
  return open;
}
