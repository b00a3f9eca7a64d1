/**
 * Torsion's echo server for the benchmarks: the textbook `Echo` protocol
 * (dataReceived writes the bytes back) on a NodeReactor, bound to 127.0.0.1
 * on port 0. Speaks the stdio protocol in control.ts.
 * Run: `node --expose-gc bench/dist/servers/torsion-echo.js`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Factory, NodeReactor, Protocol } from '@torsion/core';
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

const reactor = new NodeReactor();
// The same backlog as the net baseline, so neither refuses connections the other accepts.
const port = reactor.listenTCP(0, Factory.forProtocol(Echo), {
  interface: '127.0.0.1',
  backlog: 511,
});
await port.whenListening();
serveControl(port.getHost().port, () => connections);
