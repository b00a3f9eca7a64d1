// StandardIO over in-memory streams: what a protocol sees, closing, half-close, backpressure, failures.
import { PassThrough, Writable } from 'node:stream';
import { expect } from 'chai';
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  PipeAddress,
  Protocol,
  StandardIO,
  UNIXAddress,
  type IPushProducer,
} from '@torsion/core';
import {
  HalfCloseRecordingProtocol,
  LogCapture,
  MemoryReactor,
  RecordingProtocol,
} from '@torsion/core/testing';

/** A stdout double whose reader takes bytes only when told to ({@link SlowStdout.take}). */
class SlowStdout extends Writable {
  readonly taken: Buffer[] = [];
  readonly #held: { chunk: Buffer; done: (err?: Error | null) => void }[] = [];

  constructor(highWaterMark = 16 * 1024) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#held.push({ chunk, done });
  }

  /** The reader takes everything written so far (and what the stream hands over meanwhile). */
  async take(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      const next = this.#held.shift();
      if (next === undefined) {
        await tick();
        if (this.#held.length === 0) return;
        continue;
      }
      this.taken.push(next.chunk);
      next.done();
    }
  }

  /** The reader went away: the pending write fails with EPIPE. */
  breakPipe(): void {
    const next = this.#held.shift();
    const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    next?.done(err);
  }

  text(): string {
    return Buffer.concat(this.taken).toString();
  }
}

/** A stdout double that takes every byte at once. */
function fastStdout(): { stream: Writable; text: () => string; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
    final(done) {
      ended = true;
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString(), ended: () => ended };
}

const tick = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

function setup<P extends RecordingProtocol>(
  protocol: P,
  options: { stdout?: Writable; writeHighWaterMark?: number } = {},
): { stdio: StandardIO; stdin: PassThrough; protocol: P; reactor: MemoryReactor } {
  const stdin = new PassThrough();
  const reactor = new MemoryReactor();
  const stdio = new StandardIO(protocol, {
    stdin,
    stdout: options.stdout ?? fastStdout().stream,
    reactor,
    ...(options.writeHighWaterMark === undefined
      ? {}
      : { writeHighWaterMark: options.writeHighWaterMark }),
  });
  return { stdio, stdin, protocol, reactor };
}

describe('StandardIO', () => {
  it('attaches the protocol before the constructor returns and delivers stdin to dataReceived', async () => {
    const { stdin, protocol, stdio } = setup(new RecordingProtocol());
    expect(protocol.events).to.deep.equal(['connectionMade']);
    expect(protocol.transport).to.equal(stdio);
    stdin.write('hello ');
    stdin.write('world');
    await tick();
    expect(protocol.text()).to.equal('hello world');
  });

  it('writes to stdout, strings as UTF-8, writeSequence in order', async () => {
    const out = fastStdout();
    const { stdio } = setup(new RecordingProtocol(), { stdout: out.stream });
    stdio.write('é-');
    stdio.writeSequence([Buffer.from('a'), 'b', new Uint8Array([99])]);
    await tick();
    expect(out.text()).to.equal('é-abc');
  });

  it('rejects a write of anything but bytes or a string, naming the type', () => {
    const { stdio } = setup(new RecordingProtocol());
    expect(() => {
      stdio.write(42 as unknown as string);
    }).to.throw(TypeError, /number/);
  });

  it('reports a PipeAddress (an unnamed UNIX address that prints as <pipe>) for both ends', () => {
    const { stdio } = setup(new RecordingProtocol());
    for (const address of [stdio.getHost(), stdio.getPeer()]) {
      expect(address).to.be.instanceOf(PipeAddress);
      expect(address).to.be.instanceOf(UNIXAddress);
      expect(address.family).to.equal('UNIX');
      expect(address.name).to.equal(null);
      expect(String(address)).to.equal('<pipe>');
    }
  });

  it('rejects a bad writeHighWaterMark with a RangeError', () => {
    expect(
      () =>
        new StandardIO(new RecordingProtocol(), {
          stdin: new PassThrough(),
          stdout: fastStdout().stream,
          reactor: new MemoryReactor(),
          writeHighWaterMark: -1,
        }),
    ).to.throw(RangeError);
  });

  it('closes on the end of stdin for a protocol that is not half-closeable, after flushing what it wrote', async () => {
    const out = new SlowStdout();
    const { stdin, protocol, stdio } = setup(new RecordingProtocol(), { stdout: out });
    stdio.write('bye');
    stdin.end();
    await tick();
    await tick();
    expect(protocol.lostCount).to.equal(0);
    await out.take();
    const reason = await protocol.lost;
    expect(reason.value).to.be.instanceOf(ConnectionDone);
    expect(out.text()).to.equal('bye');
    expect(out.writableEnded).to.equal(true);
  });

  it('tells a half-closeable protocol readConnectionLost on the end of stdin, and it may go on writing', async () => {
    const out = fastStdout();
    const { stdin, protocol, stdio } = setup(new HalfCloseRecordingProtocol(), {
      stdout: out.stream,
    });
    stdin.end('last');
    await protocol.readLost;
    expect(protocol.text()).to.equal('last');
    stdio.write('still here');
    await tick();
    expect(out.text()).to.equal('still here');
    expect(protocol.lostCount).to.equal(0);
    stdio.loseConnection();
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionDone);
    expect(protocol.events).to.deep.equal([
      'connectionMade',
      'readConnectionLost',
      'connectionLost',
    ]);
  });

  it('ends stdout on loseWriteConnection, tells writeConnectionLost, and is lost once stdin ends too', async () => {
    const out = fastStdout();
    const { stdin, protocol, stdio } = setup(new HalfCloseRecordingProtocol(), {
      stdout: out.stream,
    });
    stdio.write('answer');
    stdio.loseWriteConnection();
    await protocol.writeLost;
    expect(out.ended()).to.equal(true);
    expect(out.text()).to.equal('answer');
    stdin.write('more input');
    await tick();
    expect(protocol.text()).to.equal('more input');
    stdin.end();
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionDone);
  });

  it('stops reading at loseConnection and is lost only once stdout has taken everything', async () => {
    const out = new SlowStdout();
    const { stdin, protocol, stdio } = setup(new RecordingProtocol(), { stdout: out });
    stdio.write('x'.repeat(100_000));
    stdio.loseConnection();
    stdio.write('after');
    expect(stdio.disconnecting).to.equal(true);
    stdin.write('ignored');
    await tick();
    await tick();
    expect(protocol.chunks).to.have.length(0);
    expect(protocol.lostCount).to.equal(0);
    await out.take();
    await protocol.lost;
    expect(out.text()).to.equal('x'.repeat(100_000) + 'after');
  });

  it('pauses a streaming producer above the high-water mark and resumes it once stdout drained', async () => {
    const out = new SlowStdout(1024);
    const { stdio } = setup(new RecordingProtocol(), { stdout: out, writeHighWaterMark: 4096 });
    const calls: string[] = [];
    const producer: IPushProducer = {
      pauseProducing: () => calls.push('pause'),
      resumeProducing: () => calls.push('resume'),
      stopProducing: () => calls.push('stop'),
    };
    stdio.registerProducer(producer, true);
    for (let i = 0; i < 10; i++) stdio.write(Buffer.alloc(1000));
    expect(calls).to.deep.equal(['pause']);
    expect(stdio.writeBufferSize).to.equal(10_000);
    await out.take();
    await tick();
    expect(calls).to.deep.equal(['pause', 'resume']);
    expect(stdio.writeBufferSize).to.equal(0);
    expect(out.taken.reduce((n, c) => n + c.length, 0)).to.equal(10_000);
  });

  it('stops reading stdin while stdout is backed up and no producer is registered', async () => {
    const out = new SlowStdout(1024);
    const { stdin, stdio, protocol } = setup(new RecordingProtocol(), {
      stdout: out,
      writeHighWaterMark: 2048,
    });
    stdio.write(Buffer.alloc(5000));
    expect(stdin.isPaused()).to.equal(true);
    stdin.write('waits');
    await tick();
    expect(protocol.chunks).to.have.length(0);
    await out.take();
    await tick();
    expect(stdin.isPaused()).to.equal(false);
    await tick();
    expect(protocol.text()).to.equal('waits');
  });

  it('pauses and resumes reading when the protocol asks (pauseProducing/resumeProducing)', async () => {
    const { stdin, stdio, protocol } = setup(new RecordingProtocol());
    stdio.pauseProducing();
    stdin.write('held');
    await tick();
    expect(protocol.chunks).to.have.length(0);
    stdio.resumeProducing();
    await tick();
    expect(protocol.text()).to.equal('held');
  });

  it('ends the connection with a ConnectionLost naming EPIPE when the reader of stdout went away, without throwing', async () => {
    const out = new SlowStdout();
    const { protocol, stdio, stdin } = setup(new RecordingProtocol(), { stdout: out });
    stdio.write('nobody reads this');
    out.breakPipe();
    const reason = await protocol.lost;
    expect(reason.value).to.be.instanceOf(ConnectionLost);
    expect(reason.getErrorMessage()).to.match(/EPIPE/);
    expect(reason.getErrorMessage()).to.match(/reader went away/);
    expect(stdin.isPaused()).to.equal(true);
    // Later writes are dropped, and later errors on the stream cannot crash the process.
    stdio.write('dropped');
    out.emit('error', new Error('late'));
    expect(protocol.lostCount).to.equal(1);
  });

  it('ends the connection with a ConnectionLost when reading stdin fails', async () => {
    const { protocol, stdin } = setup(new RecordingProtocol());
    stdin.destroy(Object.assign(new Error('read EIO'), { code: 'EIO' }));
    const reason = await protocol.lost;
    expect(reason.value).to.be.instanceOf(ConnectionLost);
    expect(reason.getErrorMessage()).to.match(/reading stdin.*EIO/);
  });

  it('logs an exception from dataReceived and ends the connection with it as the cause', async () => {
    class Faulty extends RecordingProtocol {
      override dataReceived(): void {
        throw new Error('boom');
      }
    }
    const logs = LogCapture.start();
    try {
      const { protocol, stdin } = setup(new Faulty());
      stdin.write('x');
      const reason = await protocol.lost;
      expect(reason.value).to.be.instanceOf(ConnectionLost);
      expect(reason.value.cause).to.have.property('message', 'boom');
      expect(logs.failures().map((f) => f.getErrorMessage())).to.include('boom');
    } finally {
      logs.stop();
    }
  });

  it('abortConnection ends it at once with ConnectionAborted', async () => {
    const out = new SlowStdout();
    const { protocol, stdio } = setup(new RecordingProtocol(), { stdout: out });
    stdio.write('y'.repeat(50_000));
    stdio.abortConnection();
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionAborted);
  });

  it("closes with the reactor's shutdown, which waits until stdout is flushed", async () => {
    const out = new SlowStdout();
    const { protocol, stdio, reactor } = setup(new RecordingProtocol(), { stdout: out });
    const stopped = reactor.run();
    stdio.write('flushed before stop');
    reactor.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await tick();
    expect(done).to.equal(false);
    await out.take();
    await stopped;
    expect(protocol.lostCount).to.equal(1);
    expect(out.text()).to.equal('flushed before stop');
  });

  it('forgets its shutdown trigger once the connection is lost', async () => {
    const { protocol, stdio, reactor } = setup(new RecordingProtocol());
    expect(reactor.triggers).to.have.length(1);
    stdio.loseConnection();
    await protocol.lost;
    expect(reactor.triggers).to.have.length(0);
  });

  it('runs a plain Protocol subclass too (the transport is typed ITransport)', async () => {
    const out = fastStdout();
    class Greeter extends Protocol {
      override connectionMade(): void {
        this.transport.write('hi\n');
        this.transport.loseConnection();
      }
    }
    new StandardIO(new Greeter(), {
      stdin: new PassThrough(),
      stdout: out.stream,
      reactor: new MemoryReactor(),
    });
    await tick();
    await tick();
    expect(out.text()).to.equal('hi\n');
  });
});
