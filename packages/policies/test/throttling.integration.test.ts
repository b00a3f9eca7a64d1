// ThrottlingFactory over a real NodeReactor loopback connection: a streaming
// producer that would write as fast as the loop turns is paused while its
// connection is over the write limit, so the transport's write buffer stays
// bounded (one chunk, not the seconds of data the producer could make) and
// the client receives no more than the limit allows (unthrottled, the same
// producer writes many times as much); it is resumed when the allowance
// drains, so the bytes keep coming.
import { expect } from 'chai';
import { once } from 'node:events';
import { connect } from 'node:net';
import {
  Factory,
  NodeReactor,
  Protocol,
  type IAddress,
  type IPushProducer,
  type IStreamTransport,
} from '@torsion/core';

import { ThrottlingFactory, ThrottlingProtocol } from '../src/index.js';

const CHUNK = 16 * 1024;
const LIMIT = 128 * 1024; // bytes per second, this connection
const INTERVAL = 0.05;

/** Writes a chunk on every turn of the loop while not paused; watches the real write buffer. */
class Firehose extends Protocol<never, IStreamTransport> implements IPushProducer {
  static last: Firehose | null = null;
  paused = false;
  pauses = 0;
  resumes = 0;
  maxBuffered = 0;
  written = 0;
  stopped = false;
  constructor(private readonly reactor: NodeReactor) {
    super();
    Firehose.last = this;
  }
  override connectionMade(): void {
    this.transport.registerProducer(this, true);
    this.#schedule();
  }
  #schedule(): void {
    this.reactor.callLater(0, () => {
      if (this.stopped || !this.connected) return;
      if (!this.paused) {
        this.transport.write(Buffer.alloc(CHUNK, 0x61));
        this.written += CHUNK;
        const real = (this.transport as unknown as ThrottlingProtocol).transport as unknown as {
          writeBufferSize: number;
        };
        this.maxBuffered = Math.max(this.maxBuffered, real.writeBufferSize);
      }
      this.#schedule();
    });
  }
  pauseProducing(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }
  resumeProducing(): void {
    if (this.paused) this.resumes++;
    this.paused = false;
  }
  stopProducing(): void {
    this.stopped = true;
  }
}

interface Run {
  elapsed: number;
  received: number;
  firehose: Firehose;
  /** Bytes the producer wrote, and the factory counted, by the time the client hung up. */
  written: number;
  writtenBytes: number;
}

/** Serves a Firehose through `factory`'s options for `seconds`, to a client that reads everything. */
async function serve(options: { writeLimitPerConnection?: number }, seconds: number): Promise<Run> {
  const reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 });
  const running = reactor.run();
  try {
    const factory = new ThrottlingFactory(
      Factory.forProtocol(
        class extends Firehose {
          constructor() {
            super(reactor);
          }
        },
      ),
      { ...options, interval: INTERVAL, clock: reactor },
    );
    const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
    await port.whenListening();
    const started = Date.now();
    const socket = connect((port.getHost() as IAddress & { port: number }).port, '127.0.0.1');
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    await once(socket, 'connect');
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    // Counted as the client hangs up: the server may write on until it hears of it.
    const written = Firehose.last?.written ?? 0;
    const writtenBytes = factory.writtenBytes;
    socket.destroy();
    const elapsed = (Date.now() - started) / 1000;
    await port.stopListening();
    const firehose = Firehose.last;
    if (firehose === null) throw new Error('no connection was served');
    return { elapsed, received, firehose, written, writtenBytes };
  } finally {
    reactor.stop();
    await running;
  }
}

describe('ThrottlingFactory over a NodeReactor loopback connection (integration)', function () {
  this.timeout(15_000);

  it('pauses the producer while over the write limit: what it writes stays bounded, the rate holds', async () => {
    // Unthrottled, the same producer writes many times the limit in a fifth of a second.
    const free = await serve({}, 0.2);
    expect(free.written).to.be.greaterThan(2 * LIMIT);
    expect(free.firehose.pauses).to.equal(0);

    const { elapsed, received, firehose, written, writtenBytes } = await serve(
      { writeLimitPerConnection: LIMIT },
      1.5,
    );
    // At most the limit for the time, plus the one second's allowance and a chunk:
    // the producer was held back, nothing piled up in a buffer.
    expect(written).to.be.at.most(LIMIT * (elapsed + 1) + CHUNK);
    expect(writtenBytes).to.equal(written);
    expect(received).to.be.at.most(written);
    expect(firehose.maxBuffered).to.be.at.most(LIMIT + CHUNK);
    // Resumed as the allowance drains: well over a second's worth arrived.
    expect(received).to.be.at.least(LIMIT * (elapsed - 1));
    // Paused by the throttle many times, and resumed as often (or once less).
    expect(firehose.pauses).to.be.at.least(5);
    expect(firehose.resumes).to.be.at.least(firehose.pauses - 1);
  });
});
