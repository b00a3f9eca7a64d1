/**
 * The baseline of the line-server benchmark: a line echo as a Node user
 * writes it with `node:net` and `node:readline` (one interface per socket,
 * each line written back with CRLF). Listens on 127.0.0.1 at the port given
 * as argv[2].
 *
 * Tests: none (benchmark harness; bench/run.ts runs it with --only line-server).
 * @module
 */
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const server = createServer((socket) => {
  socket.on('error', () => {});
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  // The interface re-emits the socket's errors (a peer that went away).
  lines.on('error', () => {});
  lines.on('line', (line) => {
    socket.write(`${line}\r\n`);
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
