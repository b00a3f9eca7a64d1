/**
 * The baseline of the tiny-writes benchmark: a line echo as a Node user
 * writes it with `node:net`, splitting on CRLF and writing each line back,
 * with the usual backpressure (pause reading while more than 64 KiB waits,
 * resume on 'drain'). Listens on 127.0.0.1 at the port given as argv[2].
 * Run: `node --import tsx bench/servers/net-line-echo.ts PORT`.
 *
 * Tests: none (benchmark harness; bench/tiny-writes.ts runs it).
 * @module
 */
import { createServer } from 'node:net';

const HIGH_WATER = 64 * 1024;

const server = createServer((socket) => {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (data: Buffer) => {
    const buffer = pending.length > 0 ? Buffer.concat([pending, data]) : data;
    let at = 0;
    for (let end = buffer.indexOf('\r\n', at); end !== -1; end = buffer.indexOf('\r\n', at)) {
      socket.write(buffer.subarray(at, end + 2));
      at = end + 2;
    }
    pending = buffer.subarray(at);
    if (socket.writableLength > HIGH_WATER && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  });
  socket.on('error', () => {});
});
server.listen(Number(process.argv[2]), '127.0.0.1');
