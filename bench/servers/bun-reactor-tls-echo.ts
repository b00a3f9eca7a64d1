/**
 * Torsion's TLS echo server on Bun: the same textbook `Echo` protocol as
 * torsion-tls-echo.ts, served by `@torsion/reactor-bun`'s
 * `BunReactor.listenSSL` on 127.0.0.1 with the key and certificate files the
 * runner wrote.
 * Run: `node_modules/.bin/bun bench/dist/servers/bun-reactor-tls-echo.js PORT KEY_FILE CERT_FILE`;
 * it listens until killed (bench/lib/tls.ts starts it).
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Factory, Protocol, serverTLSOptions } from '@torsion/core';
import { BunReactor } from '@torsion/reactor-bun';
import { tlsServerArgs } from './tls-args.js';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const { port, keyFile, certFile } = tlsServerArgs('bun-reactor-tls-echo');
const reactor = new BunReactor();
// The same backlog as the node:tls baseline, so neither refuses connections the other accepts.
const listening = reactor.listenSSL(
  port,
  Factory.forProtocol(Echo),
  serverTLSOptions({ keyFile, certFile }),
  { interface: '127.0.0.1', backlog: 511 },
);
await listening.whenListening();
