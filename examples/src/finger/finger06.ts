/**
 * Finger, step 6: a client. `connectTCP` with a ClientFactory; the factory
 * turns the outcome into a Deferred: the reply lines once the server hangs up,
 * or the reason the connection failed.
 * Run: `PORT=1079 node examples/dist/finger/finger06.js moshez` (HOST defaults to 127.0.0.1).
 *
 * Tests: examples/test/finger-tutorial.test.ts
 */
import { ClientFactory, Deferred, Logger, NodeReactor } from '@torsion/core';
import type { Failure, IAddress, IConnector, IReactorTCP } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** Sends the user name, collects the reply until the server hangs up. */
class FingerClient extends LineReceiver {
  readonly #factory: FingerClientFactory;
  readonly #lines: string[] = [];

  constructor(factory: FingerClientFactory) {
    super();
    this.#factory = factory;
  }

  override connectionMade(): void {
    this.sendLine(this.#factory.user);
  }

  override lineReceived(line: Buffer): void {
    this.#lines.push(line.toString('utf8'));
  }

  override connectionLost(_reason: Failure): void {
    this.#factory.replied(this.#lines);
  }
}

/** One query: `deferred` fires with the reply lines, or fails with why. */
class FingerClientFactory extends ClientFactory {
  readonly deferred = new Deferred<string[]>();
  readonly user: string;

  constructor(user: string) {
    super();
    this.user = user;
  }

  override buildProtocol(addr: IAddress): FingerClient {
    void addr;
    return new FingerClient(this);
  }

  replied(lines: string[]): void {
    this.deferred.callback(lines);
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void connector;
    this.deferred.errback(reason);
  }
}

/** Asks the finger server at `host:port` about `user`. */
function finger(
  reactor: IReactorTCP,
  host: string,
  port: number,
  user: string,
): Deferred<string[]> {
  const factory = new FingerClientFactory(user);
  reactor.connectTCP(host, port, factory, { timeout: 10 });
  return factory.deferred;
}

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 1079);
const user = process.argv[2] ?? '';
const reactor = new NodeReactor();
reactor.callWhenRunning(() => {
  finger(reactor, host, port, user)
    .addCallbacks(
      (lines) => {
        process.stdout.write(lines.map((line) => `${line}\n`).join(''));
      },
      (failure: Failure) => {
        log.failure(`finger ${user}@${host}:${port} failed`, failure);
        process.exitCode = 1;
      },
    )
    .addBoth(() => {
      reactor.stop();
    });
});
await reactor.run();
