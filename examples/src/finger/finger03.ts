/**
 * Finger, step 3: a user database. The factory holds it (a Map), since it is
 * shared by every connection; each protocol asks the factory.
 * Run: `PORT=1079 node examples/dist/finger/finger03.js`
 *
 * Tests: examples/test/finger-tutorial.test.ts
 */
import { Logger, NodeReactor, ServerFactory } from '@torsion/core';
import type { IAddress } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** Looks the user up in its factory's database. */
class FingerProtocol extends LineReceiver {
  readonly #factory: FingerFactory;

  constructor(factory: FingerFactory) {
    super();
    this.#factory = factory;
  }

  override lineReceived(user: Buffer): void {
    this.sendLine(this.#factory.getUser(user.toString('utf8').trim()));
    this.transport.loseConnection();
  }
}

/** Builds a FingerProtocol per connection and owns the user database. */
class FingerFactory extends ServerFactory {
  readonly #users: ReadonlyMap<string, string>;

  constructor(users: ReadonlyMap<string, string>) {
    super();
    this.#users = users;
  }

  getUser(user: string): string {
    return this.#users.get(user) ?? 'No such user';
  }

  override buildProtocol(addr: IAddress): FingerProtocol {
    void addr;
    return new FingerProtocol(this);
  }
}

const users = new Map([['moshez', 'Happy and well']]);
const port = Number(process.env.PORT ?? 1079);
const reactor = new NodeReactor();
reactor
  .listenTCP(port, new FingerFactory(users), { interface: '127.0.0.1' })
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
