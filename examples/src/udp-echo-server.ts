/**
 * A runnable UDP echo server (RFC 862) on 127.0.0.1:
 * `node examples/dist/udp-echo-server.js [port]` (or PORT=…; default 8007).
 * Try it with `nc -u 127.0.0.1 8007`. Stops cleanly on SIGINT/SIGTERM: the
 * reactor closes the port (the protocol hears stopProtocol) and the process
 * exits by itself.
 *
 * Tests: examples/test/udp-echo-server.test.ts
 */
import { DatagramProtocol, Logger, NodeReactor } from '@torsion/core';
import type { INETAddress } from '@torsion/core';

const log = new Logger('udp-echo-server');

/** Sends every datagram back to its sender. */
class Echo extends DatagramProtocol {
  override datagramReceived(data: Buffer, address: INETAddress): void {
    this.transport.write(data, address);
  }

  override stopProtocol(): void {
    log.info('stopped');
  }
}

const port = Number(process.argv[2] ?? process.env.PORT ?? 8007);
const reactor = new NodeReactor();
const listening = reactor.listenUDP(port, new Echo(), { interface: '127.0.0.1' });
listening.whenListening().addCallbacks(
  (bound) => {
    log.info(`listening on udp 127.0.0.1:${String(bound.getHost().port)}`);
  },
  (failure) => {
    log.failure('could not start', failure);
    reactor.stop();
  },
);
await reactor.run();
