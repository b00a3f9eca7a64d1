/**
 * A tiny REPL-style line tool over the process's own stdin and stdout:
 * `node examples/dist/stdio-calc.js`, then type commands, one a line:
 *
 * - `sum 1 2 3.5` → `6.5`
 * - `upper some text` → `SOME TEXT`
 * - `quit` → `bye`, and the tool exits
 *
 * Anything else gets an `error: …` line. The end of input (Ctrl-D, or the
 * end of a pipe: `printf 'sum 1 2\n' | node examples/dist/stdio-calc.js`)
 * also ends it, once every answer is written. With `--blast N` it writes N
 * MiB of output through a producer instead, at the pace its reader takes it
 * (the backpressure test reads it slowly).
 *
 * Tests: examples/test/stdio-calc.test.ts
 */
import {
  NodeReactor,
  Protocol,
  StandardIO,
  type Failure,
  type IProtocolFactory,
  type IPushProducer,
  type IStreamTransport,
} from '@torsion/core';
import { LineReceiver } from '@torsion/line';

/** Answers one command per line. */
class Calculator extends LineReceiver {
  override delimiter = '\n';

  override lineReceived(line: Buffer): void {
    const [command = '', ...args] = line.toString().trim().split(/\s+/);
    switch (command) {
      case 'sum': {
        const numbers = args.map(Number);
        if (numbers.some(Number.isNaN)) this.sendLine(`error: not a number in ${args.join(' ')}`);
        else this.sendLine(String(numbers.reduce((a, b) => a + b, 0)));
        break;
      }
      case 'upper':
        this.sendLine(args.join(' ').toUpperCase());
        break;
      case 'quit':
        this.sendLine('bye');
        this.transport.loseConnection();
        break;
      default:
        this.sendLine(`error: unknown command ${JSON.stringify(command)}`);
    }
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    stopOnce();
  }
}

/** Writes `mebibytes` MiB of output, 64 KiB at a time, pausing whenever stdout is backed up. */
class Blaster extends Protocol<IProtocolFactory, IStreamTransport> implements IPushProducer {
  #left: number;
  #paused = false;

  constructor(mebibytes: number) {
    super();
    this.#left = mebibytes * 16;
  }

  override connectionMade(): void {
    this.transport.registerProducer(this, true);
    this.resumeProducing();
  }

  pauseProducing(): void {
    this.#paused = true;
  }

  resumeProducing(): void {
    this.#paused = false;
    // write() calls pauseProducing() once stdout is backed up.
    while (this.#left > 0 && !this.#isPaused()) {
      this.#left--;
      // A fresh chunk each time, as real output would be: what waits unsent costs memory.
      this.transport.write(Buffer.alloc(64 * 1024, 'x'));
    }
    if (this.#left === 0) {
      this.#left = -1;
      this.transport.unregisterProducer();
      this.transport.loseConnection();
    }
  }

  #isPaused(): boolean {
    return this.#paused;
  }

  stopProducing(): void {
    this.#left = -1;
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    stopOnce();
  }
}

const reactor = new NodeReactor();
// The connection also ends because the reactor is stopping (SIGINT, SIGTERM):
// stop() must then not be called a second time.
let stopping = false;
reactor.addSystemEventTrigger('before', 'shutdown', () => {
  stopping = true;
});
function stopOnce(): void {
  if (stopping) return;
  stopping = true;
  reactor.stop();
}

const blast = process.argv.indexOf('--blast');
new StandardIO(blast >= 0 ? new Blaster(Number(process.argv[blast + 1])) : new Calculator(), {
  reactor,
});
await reactor.run();
