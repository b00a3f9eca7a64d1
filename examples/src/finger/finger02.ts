/**
 * Finger, step 2: read the user name the client sends (one CRLF line), answer
 * "No such user" and hang up.
 * Run: `PORT=1079 node examples/dist/finger/finger02.js`
 *
 * Tests: examples/test/finger-tutorial.test.ts
 */
import { Factory, Logger, NodeReactor } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** Answers every query the same way. */
class FingerProtocol extends LineReceiver {
  override lineReceived(user: Buffer): void {
    void user;
    this.sendLine('No such user');
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
