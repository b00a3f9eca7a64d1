/**
 * The TLS baseline: a plain `node:tls` echo server, written the way a careful
 * Node programmer would (shared listener functions, no per-socket closures,
 * an 'error' listener so a reset peer cannot crash it), with the same key,
 * certificate, minimum version (TLS 1.2) and backlog as the Torsion server.
 * Run: `node bench/dist/servers/tls-echo.js PORT KEY_FILE CERT_FILE`; it
 * listens on 127.0.0.1:PORT until killed (bench/lib/tls.ts starts it).
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';
import { tlsServerArgs } from './tls-args.js';

function echo(this: TLSSocket, data: Buffer): void {
  this.write(data);
}

function ignoreError(): void {}

const { port, keyFile, certFile } = tlsServerArgs('tls-echo');
const server = createServer(
  { key: readFileSync(keyFile), cert: readFileSync(certFile), minVersion: 'TLSv1.2' },
  (socket) => {
    socket.on('data', echo);
    socket.on('error', ignoreError);
  },
);
// A client that resets during its handshake is not the server's problem.
server.on('tlsClientError', ignoreError);
server.listen({ port, host: '127.0.0.1', backlog: 511 });
