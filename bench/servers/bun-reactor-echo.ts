/**
 * Torsion's echo server on Bun: the same textbook `Echo` protocol as
 * torsion-echo.ts (dataReceived writes the bytes back), served by
 * `@torsion/reactor-bun`'s BunReactor on 127.0.0.1, port 0. Speaks the
 * stdio protocol in control.ts.
 * Run: `node_modules/.bin/bun bench/dist/servers/bun-reactor-echo.js`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Factory, Protocol } from '@torsion/core';
import { BunReactor } from '@torsion/reactor-bun';
import { exposeBunGc } from './bun-gc.js';
import { serveControl } from './control.js';

// A module-level count costs nothing per connection, unlike a Set of protocols.
let connections = 0;

class Echo extends Protocol {
  override connectionMade(): void {
    connections += 1;
  }

  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }

  override connectionLost(): void {
    connections -= 1;
  }
}

exposeBunGc();
const reactor = new BunReactor();
const port = reactor.listenTCP(0, Factory.forProtocol(Echo), {
  interface: '127.0.0.1',
  backlog: 511,
});
await port.whenListening();
serveControl(port.getHost().port, () => connections);
