import { expect } from 'chai';
import {
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  TimeoutError,
  TorsionError,
} from '../src/errors.js';
import { Failure } from '../src/failure.js';

describe('Failure', () => {
  it('check() returns the first class the error is an instance of', () => {
    const failure = new Failure(new ConnectionDone());
    expect(failure.check(ConnectionLost, ConnectionClosed)).to.equal(ConnectionClosed);
    expect(failure.check(ConnectionDone, TorsionError)).to.equal(ConnectionDone);
  });

  it('check() returns null when nothing matches', () => {
    expect(new Failure(new ConnectionDone()).check(ConnectionLost, TimeoutError)).to.equal(null);
  });

  it('trap() returns the matching class', () => {
    expect(new Failure(new TimeoutError()).trap(ConnectionLost, TimeoutError)).to.equal(
      TimeoutError,
    );
  });

  it('trap() rethrows the Failure itself when nothing matches', () => {
    const failure = new Failure(new TimeoutError());
    expect(() => failure.trap(ConnectionLost))
      .to.throw()
      .that.equals(failure);
  });

  it('wraps a thrown string in an Error that keeps the string as its message', () => {
    const failure = new Failure('boom');
    expect(failure.value).to.be.instanceOf(Error);
    expect(failure.getErrorMessage()).to.equal('boom');
    expect(failure.value.cause).to.equal('boom');
  });

  it('wraps other thrown values with a description and keeps them as cause', () => {
    const thrown = { code: 42 };
    const failure = new Failure(thrown);
    expect(failure.getErrorMessage()).to.equal('Non-error thrown: { code: 42 }');
    expect(failure.value.cause).to.equal(thrown);
  });

  it('describes values JSON cannot represent', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(new Failure(cyclic).getErrorMessage()).to.equal(
      'Non-error thrown: <ref *1> { self: [Circular *1] }',
    );
    expect(new Failure(undefined).getErrorMessage()).to.equal('Non-error thrown: undefined');
  });

  it('unwraps a Failure passed to the constructor', () => {
    const inner = new Failure(new ConnectionLost());
    expect(new Failure(inner).value).to.equal(inner.value);
  });

  it('type is the error class', () => {
    expect(new Failure(new ConnectionLost()).type).to.equal(ConnectionLost);
  });

  it('getTraceback() includes the stack and each cause', () => {
    const root = new Error('disk on fire');
    const failure = new Failure(new ConnectionLost('lost', { cause: root }));
    const traceback = failure.getTraceback();
    expect(traceback).to.match(/^ConnectionLost: lost\n\s+at /);
    expect(traceback).to.include('Caused by: Error: disk on fire');
  });

  it('getTraceback() stops at a cause cycle and shows non-Error causes', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(new Failure(a).getTraceback().split('Caused by:')).to.have.length(2);
    const withValueCause = new Error('outer', { cause: 7 });
    expect(new Failure(withValueCause).getTraceback()).to.match(/Caused by: 7$/);
  });

  it('raiseException() throws the wrapped error', () => {
    const error = new TimeoutError();
    expect(() => new Failure(error).raiseException())
      .to.throw()
      .that.equals(error);
  });

  it('toString() names the error class and message', () => {
    expect(String(new Failure(new TimeoutError('slow')))).to.equal(
      '[Failure instance: TimeoutError: slow]',
    );
  });
});
