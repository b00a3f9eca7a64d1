// Tests of src/errors.ts: each error is a TorsionError with its stable code.
import { TorsionError } from '@torsion/core';
import { expect } from 'chai';
import { ProxyHeaderError, ProxyHeaderTimeoutError, UntrustedProxyError } from '../src/errors.js';

describe('PROXY protocol errors', () => {
  for (const [Class, code] of [
    [ProxyHeaderError, 'TORSION_ERR_PROXY_HEADER'],
    [ProxyHeaderTimeoutError, 'TORSION_ERR_PROXY_HEADER_TIMEOUT'],
    [UntrustedProxyError, 'TORSION_ERR_UNTRUSTED_PROXY'],
  ] as const) {
    it(`${Class.name} is a TorsionError with code ${code}`, () => {
      const error = new Class('why');
      expect(error).to.be.instanceOf(TorsionError);
      expect(error.code).to.equal(code);
      expect(error.name).to.equal(Class.name);
      expect(error.message).to.equal('why');
    });
  }
});
