// Tests of src/error-code.ts: reading `code` from whatever was thrown.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConnectionRefusedError } from '../src/errors.js';
import { errorCode } from '../src/error-code.js';

describe('errorCode', () => {
  it("returns a Node system error's code", () => {
    let thrown: unknown;
    try {
      readFileSync('/nonexistent/torsion/file');
    } catch (err) {
      thrown = err;
    }
    expect(errorCode(thrown)).to.equal('ENOENT');
  });

  it("returns a TorsionError's stable code", () => {
    expect(errorCode(new ConnectionRefusedError())).to.equal(new ConnectionRefusedError().code);
  });

  it('returns undefined, never throwing, for anything without a string code', () => {
    const values: unknown[] = [
      undefined,
      null,
      'ENOENT',
      42,
      new Error('plain'),
      { code: 7 },
      Object.create(null) as object,
    ];
    for (const value of values) expect(errorCode(value)).to.equal(undefined);
  });
});
