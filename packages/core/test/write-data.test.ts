// toBuffer/assertWriteData: what write() accepts, and the TypeError for the rest.
import { expect } from 'chai';
import { describeType } from '../src/describe-type.js';
import { assertWriteData, toBuffer } from '../src/internal/write-data.js';

describe('write data', () => {
  it('returns a Buffer as is, without copying', () => {
    const b = Buffer.from('abc');
    expect(toBuffer(b)).to.equal(b);
  });

  it('encodes a string as UTF-8', () => {
    expect(toBuffer('héllo')).to.deep.equal(Buffer.from([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]));
  });

  it('views a Uint8Array (including a slice) without copying its bytes', () => {
    const whole = new Uint8Array([1, 2, 3, 4]);
    const view = toBuffer(whole.subarray(1, 3));
    expect([...view]).to.deep.equal([2, 3]);
    whole[1] = 9;
    expect(view[0]).to.equal(9);
  });

  it('throws TypeError naming the type for anything else', () => {
    for (const [value, name] of [
      [42, 'number'],
      [null, 'null'],
      [undefined, 'undefined'],
      [[1, 2], 'Array'],
      [new ArrayBuffer(2), 'ArrayBuffer'],
      [Object.create(null), 'object'],
    ] as const) {
      const bad: unknown = value;
      expect(() => toBuffer(bad as string)).to.throw(TypeError, name);
      expect(() => {
        assertWriteData(value);
      }).to.throw(TypeError, name);
    }
    expect(describeType(new Map())).to.equal('Map');
  });
});
