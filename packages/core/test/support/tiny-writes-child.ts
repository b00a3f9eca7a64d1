// Run by tcp-tiny-writes.integration.test.ts as
// `node --expose-gc --import tsx tiny-writes-child.ts`: serves CONNECTIONS
// loopback peers that never read, backs each connection's output up with one
// shared 16 MiB buffer, then writes 32,768 two-byte pieces per connection in
// one turn, and prints one JSON line with what that cost in JavaScript and
// Buffer memory (after forced collections) and in writeBufferSize.
import { connect, type Socket } from 'node:net';
import { NodeReactor } from '../../src/node-reactor.js';
import { RecordingProtocol, serveOnLoopback } from '../../src/testing/index.js';

const CONNECTIONS = 8;
const PIECES = 32_768;
const BIG = Buffer.alloc(16 * 1024 * 1024, 0x61);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function used(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function bufferedOf(protocol: RecordingProtocol): number {
  return (protocol.transport as unknown as { writeBufferSize: number }).writeBufferSize;
}

const reactor = new NodeReactor({ installSignalHandlers: false });
const running = reactor.run();
const servers: RecordingProtocol[] = [];
const { port } = await serveOnLoopback(reactor, () => {
  const p = new RecordingProtocol();
  servers.push(p);
  return p;
});
const peers: Socket[] = [];
for (let i = 0; i < CONNECTIONS; i++) {
  const socket = connect(port, '127.0.0.1');
  socket.pause();
  socket.on('error', () => {});
  peers.push(socket);
}
while (servers.length < CONNECTIONS) await new Promise((r) => setTimeout(r, 10));
await Promise.all(servers.map((s) => s.made));
for (const s of servers) s.transport.write(BIG);
// Let the kernel take what it will: what remains is held by the process.
await new Promise((r) => setTimeout(r, 200));
const before = used();
const bufferedBefore = servers.map(bufferedOf);
for (const s of servers) {
  for (let i = 0; i < PIECES; i++) s.transport.write(i % 2 === 0 ? '\r\n' : Buffer.from('\r\n'));
}
await new Promise((r) => setTimeout(r, 50));
const after = used();
const grew = servers.map((s, i) => bufferedOf(s) - (bufferedBefore[i] ?? 0));
process.stdout.write(
  `${JSON.stringify({
    perConnection: (after - before) / CONNECTIONS,
    backedUp: bufferedBefore.every((b) => b > 0),
    grew,
  })}\n`,
);
for (const p of peers) p.destroy();
reactor.stop();
await running;
