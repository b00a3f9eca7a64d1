/**
 * Finger, step 1: a server that drops every connection as soon as it is made.
 * Run: `PORT=1079 node examples/dist/finger/finger01.js` (Ctrl-C stops it).
 *
 * Tests: examples/test/finger-tutorial.test.ts
 */
import { Factory, Logger, NodeReactor, Protocol } from '@torsion/core';

const log = new Logger('finger');

/** Hangs up on everyone. */
class FingerProtocol extends Protocol {
  override connectionMade(): void {
    this.transport.loseConnection();
  }
}

const port = Number(process.env.PORT ?? 1079);
const reactor = new NodeReactor();
reactor
  .listenTCP(port, Factory.forProtocol(FingerProtocol), { interface: '127.0.0.1' })
  .whenListening()
  .addCallbacks(
    (listening) => {
      log.info(`listening on 127.0.0.1:${listening.getHost().port}`);
    },
    (failure) => {
      log.failure('could not listen', failure);
      process.exitCode = 1;
      reactor.stop();
    },
  );
await reactor.run();
