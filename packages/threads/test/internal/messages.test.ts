// Error records on their own: what survives the structured clone between
// threads, and when a Torsion error cannot be rebuilt as its class.
import { expect } from 'chai';
import {
  ConnectError,
  ConnectionRefusedError,
  Failure,
  FirstError,
  TorsionError,
} from '@torsion/core';
import { ThreadModuleError } from '../../src/errors.js';
import { fromErrorRecord, toErrorRecord } from '../../src/internal/messages.js';

/** An error as the main thread gets it back from a worker. */
function acrossThreads(thrown: unknown): Error {
  return fromErrorRecord(structuredClone(toErrorRecord(thrown)));
}

describe('error records', () => {
  it('name the classes of a Torsion error, nearest first, and no class for other errors', () => {
    const record = toErrorRecord(new ConnectionRefusedError());
    expect(record.torsionClasses).to.deep.equal([
      'ConnectionRefusedError',
      'ConnectError',
      'TorsionError',
    ]);
    expect(toErrorRecord(new RangeError('x')).torsionClasses).to.equal(undefined);
    expect(toErrorRecord('text').torsionClasses).to.equal(undefined);
  });

  it('rebuild a Torsion error with its brands, so it is recognised by name across copies too', () => {
    const error = acrossThreads(new ConnectionRefusedError('no'));
    expect(error).to.be.instanceOf(ConnectionRefusedError);
    expect(new Failure(error).check(ConnectError)).to.equal(ConnectError);
    expect(
      (error as unknown as Record<symbol, unknown>)[
        Symbol.for('torsion.error.ConnectionRefusedError')
      ],
    ).to.equal(true);
    expect(error.message).to.equal('no');
  });

  it("rebuild this package's ThreadModuleError with its module and export", () => {
    const error = acrossThreads(
      new ThreadModuleError('gone', { module: 'file:///m.mjs', exportName: 'f' }),
    );
    expect(error).to.be.instanceOf(ThreadModuleError);
    expect(error).to.include({ module: 'file:///m.mjs', exportName: 'f' });
    expect(error).to.have.property('code', 'TORSION_ERR_THREAD_MODULE');
  });

  it('rebuild an error with a field that cannot cross as a plain Error with its name and code', () => {
    const first = new FirstError(new Failure(new ConnectionRefusedError()), 2);
    const error = acrossThreads(first);
    // A FirstError without its subFailure would break code that reads it.
    expect(error).not.to.be.instanceOf(FirstError);
    expect(error).not.to.be.instanceOf(TorsionError);
    expect(error.name).to.equal('FirstError');
    expect(error).to.have.property('code', 'TORSION_ERR_FIRST_ERROR');
    expect(error).to.have.property('index', 2);
    expect(error.cause).to.be.instanceOf(ConnectionRefusedError);
  });

  it('fall back to a plain Error for a Torsion class unknown here, keeping name, code and stack', () => {
    const record = {
      ...toErrorRecord(new ConnectionRefusedError()),
      name: 'FromElsewhere',
      torsionClasses: ['FromElsewhere', 'TorsionError2'],
      code: 'ELSEWHERE',
      stack: 'FromElsewhere: x\n    at somewhere',
    };
    const error = fromErrorRecord(record);
    expect(error.constructor).to.equal(Error);
    expect(error).to.include({ name: 'FromElsewhere', code: 'ELSEWHERE' });
    expect(error.stack).to.equal('FromElsewhere: x\n    at somewhere');
  });

  it("keep a system error's primitive fields", () => {
    const system = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      port: 1,
    });
    expect(acrossThreads(system)).to.include({
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      port: 1,
    });
  });
});
