// WriteQueue on its own: order, offsets into partly sent chunks, small-write
// coalescing and compaction, with a sink that takes a scripted number of bytes.
import { expect } from 'chai';
import { WriteQueue, type ByteSink } from '../../src/reactor-kit/write-queue.js';

/** Accepts at most `budget` bytes per flush; records everything it took. */
class Sink implements ByteSink {
  taken: Buffer[] = [];
  budget = Infinity;
  calls = 0;
  closed = false;

  write(data: Uint8Array, byteOffset: number, byteLength: number): number {
    this.calls++;
    if (this.closed) return -1;
    const n = Math.min(byteLength, this.budget);
    this.budget -= n;
    this.taken.push(Buffer.from(data.subarray(byteOffset, byteOffset + n)));
    return n;
  }

  text(): string {
    return Buffer.concat(this.taken).toString();
  }
}

describe('WriteQueue', () => {
  it('sends queued chunks in order, resuming inside a partly sent chunk', () => {
    const q = new WriteQueue();
    q.push(Buffer.from('a'.repeat(2000)));
    q.push(Buffer.from('b'.repeat(2000)));
    expect(q.size).to.equal(4000);
    const sink = new Sink();
    sink.budget = 2500;
    expect(q.flushTo(sink)).to.equal(true);
    expect(q.size).to.equal(1500);
    sink.budget = Infinity;
    q.flushTo(sink);
    expect(q.empty).to.equal(true);
    expect(sink.text()).to.equal('a'.repeat(2000) + 'b'.repeat(2000));
  });

  it('copies small writes into shared chunks, so a drain needs few sends', () => {
    const q = new WriteQueue();
    for (let i = 0; i < 1000; i++) q.push(Buffer.from(String(i % 10).repeat(10)));
    expect(q.size).to.equal(10_000);
    const sink = new Sink();
    q.flushTo(sink);
    expect(sink.calls).to.be.at.most(2);
    let expected = '';
    for (let i = 0; i < 1000; i++) expected += String(i % 10).repeat(10);
    expect(sink.text()).to.equal(expected);
  });

  it('keeps appending small writes to a partly sent shared chunk correctly', () => {
    const q = new WriteQueue();
    const sink = new Sink();
    q.push(Buffer.from('hello '));
    sink.budget = 3;
    q.flushTo(sink);
    q.push(Buffer.from('world'));
    sink.budget = Infinity;
    q.flushTo(sink);
    expect(sink.text()).to.equal('hello world');
    q.push(Buffer.from('!'));
    q.flushTo(sink);
    expect(sink.text()).to.equal('hello world!');
  });

  it('keeps large chunks by reference and mixes them with small ones in order', () => {
    const q = new WriteQueue();
    const big = Buffer.alloc(5000, 0x41);
    q.push(Buffer.from('x'));
    q.push(big);
    q.push(Buffer.from('y'));
    const sink = new Sink();
    q.flushTo(sink);
    expect(sink.text()).to.equal('x' + 'A'.repeat(5000) + 'y');
  });

  it('stays correct over a long backlog drained in small steps (compaction)', () => {
    const q = new WriteQueue();
    const sink = new Sink();
    const parts: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const part = String.fromCharCode(97 + (i % 26)).repeat(1500);
      parts.push(part);
      q.push(Buffer.from(part));
      if (i % 3 === 0) {
        sink.budget = 2000;
        q.flushTo(sink);
      }
    }
    sink.budget = Infinity;
    q.flushTo(sink);
    expect(q.size).to.equal(0);
    expect(sink.text()).to.equal(parts.join(''));
  });

  it('reports a closed sink and keeps what was not sent', () => {
    const q = new WriteQueue();
    q.push(Buffer.from('abc'));
    const sink = new Sink();
    sink.closed = true;
    expect(q.flushTo(sink)).to.equal(false);
    expect(q.size).to.equal(3);
    q.clear();
    expect(q.empty).to.equal(true);
  });

  it('copies small strings as UTF-8 and keeps their order among buffers', () => {
    const q = new WriteQueue();
    q.push('é');
    q.push(Buffer.from('-'));
    q.push('x'.repeat(2000));
    q.push('\u20ac');
    expect(q.size).to.equal(2 + 1 + 2000 + 3);
    const sink = new Sink();
    q.flushTo(sink);
    expect(sink.text()).to.equal('é-' + 'x'.repeat(2000) + '\u20ac');
  });

  it('costs about its bytes for many tiny writes: one send per shared chunk', () => {
    const q = new WriteQueue();
    for (let i = 0; i < 32_768; i++) q.push('\r\n');
    expect(q.size).to.equal(65_536);
    const sink = new Sink();
    q.flushTo(sink);
    expect(sink.calls).to.be.at.most(65_536 / 16_384 + 1);
    expect(sink.text()).to.equal('\r\n'.repeat(32_768));
  });

  it('ignores empty chunks', () => {
    const q = new WriteQueue();
    q.push(new Uint8Array(0));
    q.push('');
    expect(q.empty).to.equal(true);
  });
});
