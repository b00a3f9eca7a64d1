// Tests of src/internal/bytes.ts: the byte conversion shared by every send method.
import { expect } from 'chai';
import { joinParts, toBuffer } from '../src/internal/bytes.js';

describe('toBuffer', () => {
  it('encodes strings as UTF-8 and views Uint8Arrays without copying', () => {
    expect(toBuffer('é', 'x')).to.deep.equal(Buffer.from([0xc3, 0xa9]));
    const bytes = new Uint8Array([1, 2, 3]);
    const view = toBuffer(bytes.subarray(1), 'x');
    bytes[2] = 9;
    expect([...view]).to.deep.equal([2, 9]);
  });

  it('throws a TypeError naming the type of anything else', () => {
    expect(() => toBuffer(12, 'line')).to.throw(
      TypeError,
      'line must be a Uint8Array or a string, not number',
    );
    expect(() => toBuffer(null, 'line')).to.throw(TypeError, /not null/);
    expect(() => toBuffer(new Map(), 'line')).to.throw(TypeError, /not Map/);
  });

  it('joins parts, returning a lone part as it is', () => {
    const one = Buffer.from('a');
    expect(joinParts([one], 1)).to.equal(one);
    expect(joinParts([one, Buffer.from('bc')], 3).toString()).to.equal('abc');
  });
});
