import { expect } from 'chai';
import { ConnectionDone, ConnectionLost, ConnectionClosed } from '../src/errors.js';
import { Failure } from '../src/failure.js';

describe('Failure', () => {
  it('check() returns the first matching class, or null', () => {
    const failure = new Failure(new ConnectionDone());
    expect(failure.check(ConnectionLost, ConnectionClosed)).to.equal(ConnectionClosed);
    expect(failure.check(ConnectionLost)).to.equal(null);
  });
});
