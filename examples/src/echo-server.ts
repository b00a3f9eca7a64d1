/**
 * A runnable echo server on 127.0.0.1: `node examples/dist/echo-server.js [port]`
 * (or PORT=…; default 8007). Stops cleanly on SIGINT/SIGTERM: the reactor
 * closes the port and every connection, then the process exits by itself.
 *
 * Tests: examples/test/echo-server.test.ts
 */
import { Factory, Logger, NodeReactor, Protocol } from '@torsion/core';

const log = new Logger('echo-server');

/** Sends every byte back. */
class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const port = Number(process.argv[2] ?? process.env.PORT ?? 8007);
const reactor = new NodeReactor();
const listening = reactor.listenTCP(port, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
listening.whenListening().addCallbacks(
  (bound) => {
    log.info(`listening on 127.0.0.1:${String(bound.getHost().port)}`);
  },
  (failure) => {
    log.failure('could not start', failure);
    reactor.stop();
  },
);
await reactor.run();
