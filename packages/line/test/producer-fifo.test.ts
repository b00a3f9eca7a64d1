// Tests of src/producer-fifo.ts: ordered, bounded draining of data and producers.
import { expect } from 'chai';
import { CLOSE_WHEN_DONE, ProducerFifo, type IChatProducer } from '../src/producer-fifo.js';

function counting(chunks: string[]): IChatProducer & { calls: number } {
  const producer = {
    calls: 0,
    more(): string {
      producer.calls += 1;
      return chunks.shift() ?? '';
    },
  };
  return producer;
}

describe('ProducerFifo', () => {
  it('joins small items into one chunk up to the limit, in order', () => {
    const fifo = new ProducerFifo();
    fifo.push('a');
    fifo.push(Buffer.from('b'));
    fifo.push(new Uint8Array([0x63]));
    expect(fifo.take(10)?.toString()).to.equal('abc');
    expect(fifo.take(10)).to.equal(null);
    expect(fifo.isEmpty).to.equal(true);
  });

  it('splits a large item into chunks of at most maxBytes', () => {
    const fifo = new ProducerFifo();
    fifo.push(Buffer.alloc(25, 0x61));
    const sizes: number[] = [];
    for (let chunk = fifo.take(10); chunk !== null; chunk = fifo.take(10))
      sizes.push((chunk as Buffer).length);
    expect(sizes).to.deep.equal([10, 10, 5]);
  });

  it('asks a producer for more only when its turn comes, until it returns an empty chunk', () => {
    const fifo = new ProducerFifo();
    const producer = counting(['xx', 'yy']);
    fifo.push('0123456789');
    fifo.pushProducer(producer);
    fifo.push('end');
    expect(fifo.take(10)?.toString()).to.equal('0123456789');
    expect(producer.calls).to.equal(0);
    expect(fifo.take(10)?.toString()).to.equal('xxyyend');
    expect(producer.calls).to.equal(3);
  });

  it('stops a chunk at the close marker and returns the marker next', () => {
    const fifo = new ProducerFifo();
    fifo.push('bye');
    fifo.pushClose();
    fifo.push('never');
    expect(fifo.take()?.toString()).to.equal('bye');
    expect(fifo.take()).to.equal(CLOSE_WHEN_DONE);
  });

  it('rejects a producer chunk that is not bytes, naming its type', () => {
    const fifo = new ProducerFifo();
    fifo.pushProducer({ more: () => 5 as unknown as string });
    expect(() => fifo.take()).to.throw(TypeError, /number/);
  });

  it('rejects a non-positive chunk size', () => {
    expect(() => new ProducerFifo().take(0)).to.throw(RangeError);
  });
});
