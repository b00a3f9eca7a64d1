// Tests of src/internal/buffer-view.ts: the fast views are real Buffers.
import { expect } from 'chai';
import { view } from '../src/internal/buffer-view.js';

describe('view', () => {
  it('returns a Buffer sharing the source memory', () => {
    const source = Buffer.from('hello world');
    const part = view(source.subarray(6), 0, 5);
    expect(Buffer.isBuffer(part)).to.equal(true);
    expect(part).to.be.instanceOf(Buffer);
    expect(part.toString()).to.equal('world');
    expect(part.equals(Buffer.from('world'))).to.equal(true);
    source[6] = 0x57;
    expect(part.toString('latin1')).to.equal('World');
    expect(part.subarray(1, 3).toString()).to.equal('or');
    expect(Buffer.concat([part, Buffer.from('!')]).toString()).to.equal('World!');
  });
});
