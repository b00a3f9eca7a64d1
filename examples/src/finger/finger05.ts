/**
 * Finger, step 5: an idle timeout. A client that connects and sends nothing
 * would hold a connection forever; `callLater` drops it after `timeout`
 * seconds. The factory is given the clock (the reactor, or a test `Clock`)
 * instead of reaching for a global one, which is what makes it testable.
 * Run: `PORT=1079 TIMEOUT=10 node examples/dist/finger/finger05.js`
 *
 * Tests: examples/test/finger-tutorial.test.ts
 */
import { Logger, NodeReactor, ServerFactory, succeed } from '@torsion/core';
import type { Deferred, Failure, IAddress, IDelayedCall, IReactorTime } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** Answers one query; hangs up on clients that stay silent too long. */
class FingerProtocol extends LineReceiver {
  readonly #factory: FingerFactory;
  #idle: IDelayedCall | null = null;

  constructor(factory: FingerFactory) {
    super();
    this.#factory = factory;
  }

  override connectionMade(): void {
    this.#idle = this.#factory.clock.callLater(this.#factory.timeout, () => {
      this.#idle = null;
      this.transport.loseConnection();
    });
  }

  override lineReceived(user: Buffer): void {
    this.#stopTimer();
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

  override connectionLost(_reason: Failure): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#idle?.active() === true) this.#idle.cancel();
    this.#idle = null;
  }
}

/** Owns the user database, the clock and the idle timeout (seconds). */
class FingerFactory extends ServerFactory {
  readonly #users: ReadonlyMap<string, string>;
  readonly clock: IReactorTime;
  readonly timeout: number;

  constructor(users: ReadonlyMap<string, string>, clock: IReactorTime, timeout: number) {
    super();
    this.#users = users;
    this.clock = clock;
    this.timeout = timeout;
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
const timeout = Number(process.env.TIMEOUT ?? 10);
const reactor = new NodeReactor();
reactor
  .listenTCP(port, new FingerFactory(users, reactor, timeout), { interface: '127.0.0.1' })
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
