// Tests for src/testing/chunkers.ts: cutting data into pieces for delivery.
import { expect } from 'chai';

import { fixedChunker, randomChunker } from '../../src/testing/chunkers.js';

const data = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');

describe('chunkers', () => {
  it('fixedChunker cuts into pieces of the given size, the last one shorter', () => {
    expect(fixedChunker(4)(Buffer.from('abcdefghij')).map(String)).to.deep.equal([
      'abcd',
      'efgh',
      'ij',
    ]);
  });

  it('fixedChunker(1) delivers one byte at a time', () => {
    expect(fixedChunker(1)(Buffer.from('abc')).map(String)).to.deep.equal(['a', 'b', 'c']);
  });

  it('chunkers return no pieces for empty data', () => {
    expect(fixedChunker(3)(Buffer.alloc(0))).to.deep.equal([]);
    expect(randomChunker(1)(Buffer.alloc(0))).to.deep.equal([]);
  });

  it('randomChunker pieces join back into the data and stay within the maximum', () => {
    const pieces = randomChunker(7, 5)(data);
    expect(Buffer.concat(pieces).equals(data)).to.equal(true);
    for (const piece of pieces) expect(piece.length).to.be.within(1, 5);
  });

  it('randomChunker cuts the same way for the same seed and differently for another', () => {
    const sizes = (seed: number): number[] => randomChunker(seed, 8)(data).map((p) => p.length);
    expect(sizes(123)).to.deep.equal(sizes(123));
    expect(sizes(123)).not.to.deep.equal(sizes(124));
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => fixedChunker(0)).to.throw(RangeError, /size/);
    expect(() => fixedChunker(1.5)).to.throw(RangeError);
    expect(() => randomChunker(1, -1)).to.throw(RangeError, /maxChunkSize/);
  });
});
