/**
 * A finger server whose user database is an external command, as the finger
 * tutorial's step does with `getProcessOutput('finger', [user])`: each query
 * runs `$FINGER_COMMAND <user>` (default `finger`) and answers with what it
 * printed. The user name is checked before it becomes an argument, so a
 * query cannot smuggle in an option (`-l`) or a second name; the command's
 * output is capped at 64 KiB, and a failure (no such command, a message on
 * stderr, too much output) is logged and answered with one line.
 * Run: `PORT=1079 FINGER_COMMAND=finger node examples/dist/process-finger.js`
 *
 * Tests: examples/test/process-finger.test.ts
 */
import { getProcessOutput, Logger, NodeReactor, ServerFactory, succeed } from '@torsion/core';
import type { Deferred, Failure, IAddress } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

const log = new Logger('finger');

/** A login name: letters, digits, `_` and `-`, not starting with `-`. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/;

/** Runs the lookup, then answers whenever the answer arrives. */
class FingerProtocol extends LineReceiver {
  readonly #factory: ProcessFingerFactory;

  constructor(factory: ProcessFingerFactory) {
    super();
    this.#factory = factory;
  }

  override lineReceived(line: Buffer): void {
    this.#factory
      .getUser(line.toString('utf8').trim())
      .addErrback((failure: Failure) => {
        log.failure('the finger command failed', failure);
        return 'Internal error in server';
      })
      .addCallback((message: string) => {
        this.transport.write(message.endsWith('\n') ? message : `${message}\n`);
        this.transport.loseConnection();
      });
  }
}

/** Answers each query with the output of `command <user>`. */
class ProcessFingerFactory extends ServerFactory {
  constructor(
    readonly reactor: NodeReactor,
    readonly command: string,
  ) {
    super();
  }

  getUser(user: string): Deferred<string> {
    if (!USER_NAME.test(user)) return succeed('No such user');
    return getProcessOutput(this.command, [user], {
      reactor: this.reactor,
      maxOutputBytes: 64 * 1024,
    }).addCallback((output) => output.toString('utf8'));
  }

  override buildProtocol(addr: IAddress): FingerProtocol {
    void addr;
    return new FingerProtocol(this);
  }
}

const port = Number(process.env.PORT ?? 1079);
const command = process.env.FINGER_COMMAND ?? 'finger';
const reactor = new NodeReactor();
reactor
  .listenTCP(port, new ProcessFingerFactory(reactor, command), { interface: '127.0.0.1' })
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
