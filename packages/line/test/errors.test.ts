// Tests of src/errors.ts: stable codes and the TorsionError base.
import { expect } from 'chai';
import { TorsionError } from '@torsion/core';
import { NetstringParseError, StringTooLongError } from '../src/errors.js';

describe('errors', () => {
  it('carry stable codes and their own names', () => {
    const parse = new NetstringParseError('bad');
    expect(parse).to.be.instanceOf(TorsionError);
    expect(parse.code).to.equal('TORSION_ERR_NETSTRING_PARSE');
    expect(parse.name).to.equal('NetstringParseError');
    expect(new StringTooLongError('long').code).to.equal('TORSION_ERR_STRING_TOO_LONG');
  });
});
