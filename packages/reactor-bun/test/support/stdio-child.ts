// Child of test/stdio.bun.test.ts, run by Bun: a StandardIO connection on BunReactor over
// Bun's own process.stdin/stdout. Without arguments it answers each line upper-cased and
// reports its end on stderr; with `blast N` it writes N MiB through a streaming producer.
import {
  StandardIO,
  type Failure,
  type IProtocolFactory,
  type IPushProducer,
  type IStreamTransport,
} from '@torsion/core';
import { LineReceiver } from '@torsion/line';
import { BunReactor } from '../../src/index.js';

const reactor = new BunReactor({ installSignalHandlers: false });

class Upper extends LineReceiver {
  override delimiter = '\n';

  override lineReceived(line: Buffer): void {
    if (line.toString() === 'quit') this.transport.loseConnection();
    else this.sendLine(line.toString().toUpperCase());
  }

  override connectionLost(reason: Failure): void {
    process.stderr.write(`lost: ${reason.getErrorMessage()}\n`);
    reactor.stop();
  }
}

class Blaster extends LineReceiver<IProtocolFactory, IStreamTransport> implements IPushProducer {
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

  override lineReceived(): void {}

  override pauseProducing(): void {
    this.#paused = true;
  }

  override resumeProducing(): void {
    this.#paused = false;
    while (this.#left > 0 && !this.#isPaused()) {
      this.#left--;
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

  override stopProducing(): void {
    this.#left = -1;
  }

  override connectionLost(reason: Failure): void {
    process.stderr.write(`lost: ${reason.getErrorMessage()}\n`);
    reactor.stop();
  }
}

const protocol = process.argv[2] === 'blast' ? new Blaster(Number(process.argv[3])) : new Upper();
new StandardIO(protocol, { reactor });
await reactor.run();
