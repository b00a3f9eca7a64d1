/**
 * The Bun reference: a bare `Bun.listen` echo server, written the way a
 * careful Bun programmer would (one shared handler object, state on
 * `socket.data` only when a write comes back short). It shows what Bun's
 * sockets cost without Torsion. Speaks the stdio protocol in control.ts.
 * Run: `node_modules/.bin/bun bench/dist/servers/bun-echo.js`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { exposeBunGc } from './bun-gc.js';
import { serveControl } from './control.js';

/** What this file uses of Bun's socket API (bench/ is type-checked with Node's types only). */
interface BunSocket {
  data: Uint8Array | null;
  write(data: Uint8Array): number;
}
interface BunRuntime {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, data: Uint8Array): void;
      drain(socket: BunSocket): void;
      close(socket: BunSocket): void;
      error(socket: BunSocket, error: Error): void;
    };
  }): { port: number };
}

let connections = 0;

function send(socket: BunSocket, bytes: Uint8Array): void {
  const written = socket.write(bytes);
  // A short write keeps the rest until `drain`, so nothing is lost.
  socket.data = written >= 0 && written < bytes.length ? bytes.subarray(written) : null;
}

const bun = (globalThis as { Bun?: BunRuntime }).Bun;
if (bun === undefined) throw new Error('bun-echo.js runs on Bun: node_modules/.bin/bun');
exposeBunGc();
const listener = bun.listen({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(socket) {
      socket.data = null;
      connections += 1;
    },
    data(socket, data) {
      const pending = socket.data;
      if (pending === null) send(socket, data);
      else socket.data = Buffer.concat([pending, data]);
    },
    drain(socket) {
      const pending = socket.data;
      if (pending !== null) send(socket, pending);
    },
    close() {
      connections -= 1;
    },
    error() {},
  },
});
serveControl(listener.port, () => connections);
