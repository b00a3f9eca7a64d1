// Tests of src/crc32c.ts: the Castagnoli checksum's published check values.
import { expect } from 'chai';
import { crc32c } from '../src/crc32c.js';

describe('crc32c', () => {
  it('gives the check value 0xe3069283 for "123456789" (RFC 3720, iSCSI)', () => {
    expect(crc32c(Buffer.from('123456789'))).to.equal(0xe3069283);
  });

  it('gives 0 for no bytes and 0x8a9136aa for 32 zero bytes (RFC 3720 B.4)', () => {
    expect(crc32c(Buffer.alloc(0))).to.equal(0);
    expect(crc32c(Buffer.alloc(32))).to.equal(0x8a9136aa);
  });
});
