/**
 * The baseline: a plain `node:net` echo server, written the way a careful
 * Node programmer would (shared listener functions, no per-socket closures,
 * an 'error' listener so a reset peer cannot crash it). Speaks the stdio
 * protocol in control.ts. Run: `node --expose-gc bench/dist/servers/net-echo.js`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { createServer, type Socket } from 'node:net';
import { serveControl } from './control.js';

function echo(this: Socket, data: Buffer): void {
  this.write(data);
}

function ignoreError(): void {}

const server = createServer((socket) => {
  socket.on('data', echo);
  socket.on('error', ignoreError);
});

function countConnections(): Promise<number> {
  return new Promise((resolve, reject) => {
    server.getConnections((err, count) => {
      if (err) reject(err);
      else resolve(count);
    });
  });
}

server.listen({ port: 0, host: '127.0.0.1', backlog: 511 }, () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not a TCP address');
  serveControl(address.port, countConnections);
});
