/**
 * Finger, step 4: `getUser` returns a Deferred. A real database (or LDAP, or
 * another server) answers later; the protocol says what to do with the answer
 * (and with a failure) and returns at once, so other connections are served
 * meanwhile.
 * Run: `PORT=1079 node examples/dist/finger/finger04.js`
 *
 * Tests: examples/test/finger-tutorial.test.ts
 */
import { Logger, NodeReactor, ServerFactory, succeed } from '@torsion/core';
import type { Deferred, Failure, IAddress } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** Looks the user up, then answers whenever the answer arrives. */
class FingerProtocol extends LineReceiver {
  readonly #factory: FingerFactory;

  constructor(factory: FingerFactory) {
    super();
    this.#factory = factory;
  }

  override lineReceived(user: Buffer): void {
    this.#factory
      .getUser(user.toString('utf8').trim())
      .addErrback((failure: Failure) => {
        log.failure('getUser failed', failure);
        return 'Internal error in server';
      })
      .addCallback((message: string) => {
        this.sendLine(message);
        this.transport.loseConnection();
      });
  }
}

/** Owns the user database; lookups are asynchronous. */
class FingerFactory extends ServerFactory {
  readonly #users: ReadonlyMap<string, string>;

  constructor(users: ReadonlyMap<string, string>) {
    super();
    this.#users = users;
  }

  getUser(user: string): Deferred<string> {
    return succeed(this.#users.get(user) ?? 'No such user');
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
