// Tests of src/internal/chunk-queue.ts: reading across queued chunks.
import { expect } from 'chai';
import { ChunkQueue } from '../src/internal/chunk-queue.js';

describe('ChunkQueue', () => {
  it('reads from the oldest chunk only, up to the count asked', () => {
    const queue = new ChunkQueue();
    queue.push(Buffer.from('abc'));
    queue.push(Buffer.from('de'));
    expect(queue.length).to.equal(5);
    expect(queue.readUpTo(2).toString()).to.equal('ab');
    expect(queue.readUpTo(10).toString()).to.equal('c');
    expect(queue.peekByte()).to.equal(0x64);
    expect(queue.readUpTo(10).toString()).to.equal('de');
    expect(queue.readUpTo(1).length).to.equal(0);
    expect(queue.peekByte()).to.equal(-1);
  });

  it('puts unshifted bytes first and clears everything into one Buffer', () => {
    const queue = new ChunkQueue();
    queue.push(Buffer.from('xyz'));
    queue.readUpTo(1);
    queue.unshift(Buffer.from('1'));
    queue.push(Buffer.from('!'));
    expect(queue.clear().toString()).to.equal('1yz!');
    expect(queue.length).to.equal(0);
  });

  it('ignores empty chunks', () => {
    const queue = new ChunkQueue();
    queue.push(Buffer.alloc(0));
    queue.unshift(Buffer.alloc(0));
    expect(queue.length).to.equal(0);
  });
});

describe('ChunkQueue.discard', () => {
  it('drops everything unread, partly read chunk included, and returns the count', () => {
    const queue = new ChunkQueue();
    queue.push(Buffer.from('abc'));
    queue.push(Buffer.from('de'));
    queue.readUpTo(1);
    expect(queue.discard()).to.equal(4);
    expect(queue.length).to.equal(0);
    queue.push(Buffer.from('f'));
    expect(queue.readUpTo(5).toString()).to.equal('f');
  });
});
