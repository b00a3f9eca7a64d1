// Tests of src/is-thenable.ts: what counts as a promise to wait for.
import { expect } from 'chai';
import { isThenable } from '../src/is-thenable.js';

describe('isThenable', () => {
  it('is true for a Promise and for any object or function with a callable then', () => {
    const fn = Object.assign(() => undefined, { then: () => undefined });
    expect(isThenable(Promise.resolve(1))).to.equal(true);
    expect(isThenable({ then: () => undefined })).to.equal(true);
    expect(isThenable(fn)).to.equal(true);
  });

  it('is false for primitives, null, and a then that is not a function', () => {
    const values: unknown[] = [undefined, null, 0, 'then', true, Symbol('x'), { then: 1 }, {}];
    values.forEach((value, i) => {
      expect(isThenable(value), `values[${String(i)}]`).to.equal(false);
    });
  });
});
