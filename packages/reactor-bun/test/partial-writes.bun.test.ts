// What Bun's short writes mean for Torsion: bytes the kernel did not take are
// queued and sent on drain, nothing is lost or reordered, producers are
// paused above the high-water mark and resumed once the queue drains, and
// the default backpressure stops reading while output piles up.
import { expect } from 'chai';
import { ConnectionDone } from '@torsion/core';
import type { IPullProducer, IPushProducer } from '@torsion/core';
import { BunReactor } from '../src/index.js';
import { EchoingProtocol, RecordingProtocol, serveOnLoopback } from '@torsion/core/testing';
import { bufferedOf, RawPeer, until } from './support/helpers.js';

const MiB = 1024 * 1024;
const TOTAL = 16 * MiB;
const HWM = 64 * 1024;

/** Byte `i` of the test stream: position-dependent, so loss or reordering shows. */
function patternByte(i: number): number {
  return (i * 31 + (i >>> 13)) & 0xff;
}

function pattern(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = patternByte(offset + i);
  return b;
}

function checkPattern(data: Buffer): void {
  expect(data.length).to.equal(TOTAL);
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== patternByte(i)) {
      expect.fail(`byte ${String(i)} is ${String(data[i])}, expected ${String(patternByte(i))}`);
    }
  }
}

/** Writes the 16 MiB stream in 64 KiB chunks whenever it is not paused. */
class StreamingSender extends RecordingProtocol implements IPushProducer {
  paused = false;
  pauses = 0;
  resumes = 0;
  sent = 0;
  maxBuffered = 0;
  readonly #chunk = 64 * 1024;

  override connectionMade(): void {
    super.connectionMade();
    this.transport.registerProducer(this, true);
    this.resumeProducing();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }

  isPaused(): boolean {
    return this.paused;
  }

  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    // write() may call pauseProducing(), which sets `paused` again.
    while (!this.isPaused() && this.sent < TOTAL) {
      const n = Math.min(this.#chunk, TOTAL - this.sent);
      this.transport.write(pattern(this.sent, n));
      this.sent += n;
      this.maxBuffered = Math.max(this.maxBuffered, bufferedOf(this));
    }
    if (this.sent >= TOTAL) {
      this.transport.unregisterProducer();
      this.transport.loseConnection();
    }
  }

  stopProducing(): void {
    this.paused = true;
  }
}

/** A pull producer: 256 KiB each time it is asked. */
class PullSender extends RecordingProtocol implements IPullProducer {
  sent = 0;
  asks = 0;

  override connectionMade(): void {
    super.connectionMade();
    this.transport.registerProducer(this, false);
  }

  resumeProducing(): void {
    this.asks++;
    if (this.sent >= TOTAL) return;
    const n = Math.min(256 * 1024, TOTAL - this.sent);
    this.transport.write(pattern(this.sent, n));
    this.sent += n;
    if (this.sent >= TOTAL) {
      this.transport.unregisterProducer();
      this.transport.loseConnection();
    }
  }

  stopProducing(): void {}
}

describe('partial writes and backpressure on Bun (loopback)', function () {
  this.timeout(30_000);
  let reactor: BunReactor;
  let done: Promise<void>;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  it('keeps what one 16 MiB write could not send, and delivers all of it in order', async () => {
    const sender = new RecordingProtocol();
    const { port } = await serveOnLoopback(reactor, () => sender);
    const peer = await RawPeer.connect(port);
    peer.socket.pause();
    await sender.made;
    sender.transport.write(pattern(0, TOTAL));
    // The kernel took what fits in the socket buffers; the rest waits in ours.
    const queued = bufferedOf(sender);
    expect(queued).to.be.above(0);
    expect(queued).to.be.at.most(TOTAL);
    sender.transport.loseConnection();
    await Bun.sleep(50);
    expect(sender.lostCount).to.equal(0); // the close waits for the queue
    // As in Twisted, a write is still sent while the close waits for the queue.
    sender.transport.write('TAIL');
    peer.socket.resume();
    await peer.gotEnd;
    const bytes = peer.bytes();
    checkPattern(bytes.subarray(0, TOTAL));
    expect(bytes.subarray(TOTAL).toString()).to.equal('TAIL');
    expect((await sender.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    expect(bufferedOf(sender)).to.equal(0);
  });

  it('pauses a streaming producer while the peer does not read, bounded by the high-water mark, then drains', async () => {
    const sender = new StreamingSender();
    const { port } = await serveOnLoopback(reactor, () => sender);
    const peer = await RawPeer.connect(port);
    peer.socket.pause();
    await sender.made;
    await until(() => sender.paused);
    await Bun.sleep(50);
    // Paused, and the queue holds at most the mark plus the write that crossed it.
    expect(sender.paused).to.equal(true);
    expect(sender.sent).to.be.below(TOTAL);
    expect(bufferedOf(sender)).to.be.above(HWM);
    expect(bufferedOf(sender)).to.be.at.most(HWM + 64 * 1024);
    peer.socket.resume();
    await peer.gotEnd;
    checkPattern(peer.bytes());
    expect(sender.pauses).to.be.at.least(1);
    expect(sender.resumes).to.be.at.least(2);
    expect(sender.maxBuffered).to.be.at.most(HWM + 64 * 1024);
    expect(bufferedOf(sender)).to.equal(0);
  });

  it('asks a pull producer for more each time the queue drains', async () => {
    const sender = new PullSender();
    const { port } = await serveOnLoopback(reactor, () => sender);
    const peer = await RawPeer.connect(port);
    await peer.gotEnd;
    checkPattern(peer.bytes());
    expect(sender.asks).to.be.at.least(TOTAL / (256 * 1024));
    expect((await sender.lost).check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('stops reading from a peer that sends but never reads, until the echo output drains', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
    const peer = await RawPeer.connect(port);
    peer.socket.pause();
    const [server] = await factory.waitForBuilt(1);
    // Send far more than the socket buffers hold; the peer's own writes must stall.
    const block = Buffer.alloc(256 * 1024, 0x61);
    let offered = 0;
    let accepted = 0;
    for (let i = 0; i < 64; i++) {
      const n = peer.socket.write(block);
      offered += block.length;
      if (n > 0) accepted += n;
      if (n < block.length) break;
      await Bun.sleep(2);
    }
    await Bun.sleep(100);
    expect(accepted).to.be.below(offered);
    // The server stopped reading: its queue stays near the mark, not at what the peer sent.
    const queued = bufferedOf(server!);
    expect(queued).to.be.above(HWM);
    expect(queued).to.be.below(HWM + 2 * MiB);
    const receivedWhilePaused = server!.byteCount;
    await Bun.sleep(50);
    expect(server!.byteCount).to.equal(receivedWhilePaused);
    peer.socket.resume();
    await until(() => peer.received >= receivedWhilePaused, 10_000);
    expect(peer.received).to.be.at.least(receivedWhilePaused);
  });

  it('lets a protocol pause its own reads, independently of the output queue', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    server!.transport.pauseProducing();
    peer.socket.write('while paused');
    await Bun.sleep(50);
    expect(server!.byteCount).to.equal(0);
    server!.transport.resumeProducing();
    await server!.waitForBytes(12);
    expect(server!.received().toString()).to.equal('while paused');
  });

  it('holds loseConnection until a registered producer unregisters; the producer hears stopProducing on a lost connection', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    const calls: string[] = [];
    const producer: IPushProducer = {
      pauseProducing: () => calls.push('pause'),
      resumeProducing: () => calls.push('resume'),
      stopProducing: () => calls.push('stop'),
    };
    server!.transport.registerProducer(producer, true);
    expect(() => server!.transport.registerProducer(producer, true)).to.throw(/already registered/);
    server!.transport.loseConnection();
    await Bun.sleep(30);
    expect(server!.lostCount).to.equal(0);
    server!.transport.unregisterProducer();
    await server!.lost;
    await peer.gotEnd;
    // A producer still registered when the connection is lost is stopped.
    const second = new RecordingProtocol();
    const { port: port2 } = await serveOnLoopback(reactor, () => second);
    const peer2 = await RawPeer.connect(port2);
    await second.made;
    second.transport.registerProducer(producer, true);
    peer2.socket.terminate();
    await second.lost;
    expect(calls).to.deep.equal(['stop']);
  });
});
