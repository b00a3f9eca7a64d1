/**
 * Finger, step 7: the server of step 5, made testable. The protocol and the
 * factory are exported so that a test can drive them with the test doubles
 * of `@torsion/core/testing` (see finger07.test.ts, next to this file); the
 * server only starts when this file is run as a program.
 * Run: `PORT=1079 TIMEOUT=10 node examples/dist/finger/finger07.js`
 *
 * Tests: examples/src/finger/finger07.test.ts, examples/test/finger-tutorial.test.ts
 */
import { fileURLToPath } from 'node:url';
import { Logger, NodeReactor, ServerFactory, succeed } from '@torsion/core';
import type { Deferred, Failure, IAddress, IDelayedCall, IReactorTime } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** Answers one query; hangs up on clients that stay silent too long. */
export class FingerProtocol extends LineReceiver {
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
export class FingerFactory extends ServerFactory {
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

// Serve only when run as a program, not when a test imports this file.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
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
}
