// The getProcessOutput family with real commands on NodeReactor: output,
// exit codes, stderr, the output limit, a failed start, a signal, and
// cancellation. Every child is short-lived and every wait bounded.
import { expect } from 'chai';
import { NodeReactor } from '../../src/node-reactor.js';
import { CancelledError } from '../../src/errors.js';
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  getProcessOutput,
  getProcessOutputAndValue,
  getProcessValue,
} from '../../src/process/get-process-output.js';
import {
  ProcessKilledError,
  ProcessOutputLimitError,
  ProcessSpawnError,
  ProcessStderrError,
} from '../../src/process/process-errors.js';

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('getProcessOutput, getProcessValue, getProcessOutputAndValue (real processes)', function () {
  this.timeout(15_000);
  const reactor = new NodeReactor({ installSignalHandlers: false });

  it('getProcessOutput fires with stdout, whatever the exit code', async () => {
    const out = await getProcessOutput('sh', ['-c', 'echo hello; exit 4'], { reactor });
    expect(out.toString()).to.equal('hello\n');
  });

  it('getProcessOutput fails with ProcessStderrError when the child writes to stderr, unless errorOnStderr is false', async () => {
    const err = await rejection(getProcessOutput('sh', ['-c', 'echo oops >&2'], { reactor }));
    expect(err).to.be.instanceOf(ProcessStderrError);
    expect((err as ProcessStderrError).stderr.toString()).to.equal('oops\n');
    const out = await getProcessOutput('sh', ['-c', 'echo out; echo oops >&2'], {
      reactor,
      errorOnStderr: false,
    });
    expect(out.toString()).to.equal('out\n');
  });

  it('passes input on stdin, then closes it', async () => {
    const out = await getProcessOutput('cat', [], { reactor, input: 'fed in' });
    expect(out.toString()).to.equal('fed in');
  });

  it('past maxOutputBytes the child is killed and the Deferred fails with ProcessOutputLimitError holding the first bytes', async () => {
    const err = await rejection(getProcessOutput('yes', [], { reactor, maxOutputBytes: 1000 }));
    expect(err).to.be.instanceOf(ProcessOutputLimitError);
    const limit = err as ProcessOutputLimitError;
    expect(limit.maxOutputBytes).to.equal(1000);
    expect(limit.output.length).to.equal(1000);
    expect(limit.output.toString().startsWith('y\ny\n')).to.equal(true);
    expect(DEFAULT_MAX_OUTPUT_BYTES).to.equal(10 * 1024 * 1024);
  });

  it('getProcessValue fires with the exit code', async () => {
    expect(await getProcessValue('sh', ['-c', 'exit 7'], { reactor })).to.equal(7);
    expect(await getProcessValue('true', [], { reactor })).to.equal(0);
  });

  it('getProcessOutputAndValue fires with stdout, stderr and the exit code', async () => {
    const result = await getProcessOutputAndValue('sh', ['-c', 'echo a; echo b >&2; exit 2'], {
      reactor,
      env: { PATH: process.env.PATH },
    });
    expect(result.stdout.toString()).to.equal('a\n');
    expect(result.stderr.toString()).to.equal('b\n');
    expect(result.exitCode).to.equal(2);
  });

  it('a child killed by a signal fails with ProcessKilledError carrying its output', async () => {
    const err = await rejection(
      getProcessOutputAndValue('sh', ['-c', 'echo before; kill -TERM $$'], { reactor }),
    );
    expect(err).to.be.instanceOf(ProcessKilledError);
    expect((err as ProcessKilledError).signal).to.equal('SIGTERM');
    expect((err as ProcessKilledError).stdout.toString()).to.equal('before\n');
  });

  it('a missing executable fails with ProcessSpawnError', async () => {
    const err = await rejection(getProcessOutput('/nonexistent/torsion-cmd', [], { reactor }));
    expect(err).to.be.instanceOf(ProcessSpawnError);
    expect(
      await rejection(getProcessValue('/nonexistent/torsion-cmd', [], { reactor })),
    ).to.be.instanceOf(ProcessSpawnError);
  });

  it('cancelling the Deferred kills the child', async () => {
    const started = Date.now();
    const d = getProcessOutput('sleep', ['30'], { reactor });
    d.cancel();
    expect(await rejection(d)).to.be.instanceOf(CancelledError);
    expect(Date.now() - started).to.be.lessThan(5000);
  });

  it('bad options throw naming the field', () => {
    expect(() => getProcessOutput('x', [], { reactor, maxOutputBytes: -1 })).to.throw(
      RangeError,
      /maxOutputBytes/,
    );
    expect(() => getProcessOutput('x', [], { reactor, input: 5 as unknown as string })).to.throw(
      TypeError,
      /options\.input/,
    );
    expect(() =>
      getProcessOutput('x', [], { reactor, shell: true } as unknown as { reactor: NodeReactor }),
    ).to.throw(TypeError, /options\.shell/);
  });
});
