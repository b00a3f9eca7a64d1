import { expect } from 'chai';
import { ConnectionDone, ConnectionLost, TorsionError } from '../../src/errors.js';
import { Failure } from '../../src/failure.js';
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessOutputLimitError,
  ProcessSpawnError,
  ProcessTerminated,
  signalNumber,
} from '../../src/process/process-errors.js';

describe('process errors', () => {
  it('ProcessDone is a ConnectionDone with exit code 0 and no signal', () => {
    const done = new ProcessDone();
    expect(done).to.be.instanceOf(ConnectionDone);
    expect(done.code).to.equal('TORSION_ERR_PROCESS_DONE');
    expect(done.exitCode).to.equal(0);
    expect(done.signal).to.equal(null);
    expect(new Failure(done).check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('ProcessTerminated carries the exit code, or the signal by name and number', () => {
    const exited = new ProcessTerminated(3, null);
    expect(exited).to.be.instanceOf(ConnectionLost);
    expect(exited.exitCode).to.equal(3);
    expect(exited.signal).to.equal(null);
    expect(exited.signalNumber).to.equal(null);
    expect(exited.message).to.contain('exit code 3');

    const killed = new ProcessTerminated(null, 'SIGTERM');
    expect(killed.exitCode).to.equal(null);
    expect(killed.signal).to.equal('SIGTERM');
    expect(killed.signalNumber).to.equal(15);
    expect(killed.message).to.contain('signal SIGTERM');
  });

  it('a signal and an exit code together keep the signal (exactly one is non-null)', () => {
    const both = new ProcessTerminated(1, 'SIGKILL');
    expect(both.exitCode).to.equal(null);
    expect(both.signalNumber).to.equal(9);
  });

  it('ProcessSpawnError names the executable and the system code', () => {
    const cause = Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' });
    const err = new ProcessSpawnError('nope', 'ENOENT', { cause });
    expect(err).to.be.instanceOf(ConnectionLost);
    expect(err.code).to.equal('TORSION_ERR_PROCESS_SPAWN');
    expect(err.executable).to.equal('nope');
    expect(err.systemCode).to.equal('ENOENT');
    expect(err.message).to.contain('"nope"').and.contain('ENOENT');
    expect(err.cause).to.equal(cause);
    expect(new ProcessSpawnError('/tmp/x', 'EACCES').message).to.contain('not executable');
  });

  it('ProcessExitedAlready and ProcessOutputLimitError are TorsionErrors with stable codes', () => {
    expect(new ProcessExitedAlready()).to.be.instanceOf(TorsionError);
    expect(new ProcessExitedAlready().code).to.equal('TORSION_ERR_PROCESS_EXITED_ALREADY');
    const limit = new ProcessOutputLimitError('yes', 10, Buffer.from('y\n'));
    expect(limit.code).to.equal('TORSION_ERR_PROCESS_OUTPUT_LIMIT');
    expect(limit.maxOutputBytes).to.equal(10);
    expect(limit.message).to.contain('maxOutputBytes');
  });

  it('signalNumber knows the common signals and says null for others', () => {
    expect(signalNumber('SIGKILL')).to.equal(9);
    expect(signalNumber('SIGINT')).to.equal(2);
    expect(signalNumber('SIGNOPE')).to.equal(null);
    expect(signalNumber('SIGUSR1', { SIGUSR1: 10 })).to.equal(10);
  });
});
