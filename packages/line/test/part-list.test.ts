// Tests of src/internal/part-list.ts: frames assembled from many reads.
import { expect } from 'chai';
import { PartList } from '../src/internal/part-list.js';

describe('PartList', () => {
  it('joins parts in order and keeps a lone large part uncopied', () => {
    const parts = new PartList();
    const big = Buffer.alloc(4096, 0x61);
    parts.push(big);
    expect(parts.take()).to.equal(big);
    parts.push(Buffer.from('ab'));
    parts.push(Buffer.from('cd'));
    expect(parts.length).to.equal(4);
    expect(parts.take().toString()).to.equal('abcd');
    expect(parts.length).to.equal(0);
  });

  it('merges one-byte reads so a trickled frame does not cost a Buffer object per byte', () => {
    const parts = new PartList();
    const input = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    for (const byte of input) parts.push(Buffer.of(byte));
    expect(parts.length).to.equal(input.length);
    expect(parts.count).to.be.at.most(Math.ceil(input.length / 1024) + 12);
    expect(parts.take().equals(input)).to.equal(true);
  });

  it('returns the last n bytes without removing them', () => {
    const parts = new PartList();
    parts.push(Buffer.from('hello'));
    parts.push(Buffer.from('!'));
    expect(parts.tail(3).toString()).to.equal('lo!');
    expect(parts.length).to.equal(6);
  });
});
