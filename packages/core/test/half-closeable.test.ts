// isHalfCloseable: the one test every transport makes of what the peer's FIN means.
import { expect } from 'chai';
import { isHalfCloseable } from '../src/half-closeable.js';
import { Protocol } from '../src/protocol.js';
import { HalfCloseRecordingProtocol } from '../src/testing/half-close-recording-protocol.js';

describe('isHalfCloseable', () => {
  it('is true for a protocol with readConnectionLost and writeConnectionLost', () => {
    expect(isHalfCloseable(new HalfCloseRecordingProtocol())).to.equal(true);
    expect(isHalfCloseable({ readConnectionLost() {}, writeConnectionLost() {} })).to.equal(true);
  });

  it('is false for a plain Protocol, or one with only one of the two hooks', () => {
    expect(isHalfCloseable(new Protocol())).to.equal(false);
    expect(isHalfCloseable({ readConnectionLost() {} })).to.equal(false);
    expect(isHalfCloseable({ writeConnectionLost: 1 })).to.equal(false);
  });
});
