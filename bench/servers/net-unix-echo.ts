/**
 * The unix-echo baseline: a plain `node:net` echo server on a UNIX-domain
 * socket, written as net-echo.ts is (shared listener functions, an 'error'
 * listener). Listens on the path given as its argument; speaks the stdio
 * protocol in control.ts (its first line is the path).
 * Run: `node --expose-gc bench/dist/servers/net-unix-echo.js /tmp/dir/s`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { createServer, type Socket } from 'node:net';
import { serveControl } from './control.js';
import { socketPathArgument } from './unix-args.js';

function echo(this: Socket, data: Buffer): void {
  this.write(data);
}

function ignoreError(): void {}

const path = socketPathArgument();
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

server.listen({ path, backlog: 511 }, () => {
  serveControl(path, countConnections);
});
