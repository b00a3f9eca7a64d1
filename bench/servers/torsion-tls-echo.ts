/**
 * Torsion's TLS echo server for the benchmarks: the textbook `Echo` protocol
 * (dataReceived writes the bytes back) served by `NodeReactor.listenSSL` on
 * 127.0.0.1, with the key and certificate files the runner wrote.
 * Run: `node bench/dist/servers/torsion-tls-echo.js PORT KEY_FILE CERT_FILE`;
 * it listens until killed (bench/lib/tls.ts starts it).
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Factory, NodeReactor, Protocol, serverTLSOptions } from '@torsion/core';
import { tlsServerArgs } from './tls-args.js';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const { port, keyFile, certFile } = tlsServerArgs('torsion-tls-echo');
const reactor = new NodeReactor();
// The same backlog as the node:tls baseline, so neither refuses connections the other accepts.
const listening = reactor.listenSSL(
  port,
  Factory.forProtocol(Echo),
  serverTLSOptions({ keyFile, certFile }),
  { interface: '127.0.0.1', backlog: 511 },
);
await listening.whenListening();
