// ThreadPool.deferToThread / callInThread: results and errors come back on
// the reactor as Deferreds; bad input fails clearly; cancellation stops work.
import { expect } from 'chai';
import { CancelledError, NodeReactor, type Failure } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { ThreadModuleError, ThreadPool } from '../src/index.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);

/** Resolves with the failure a Deferred (or promise) fails with; rejects if it succeeds. */
async function failureOf(d: PromiseLike<unknown>): Promise<Error> {
  try {
    await d;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** Waits until no task holds a thread (a result can arrive just before its worker is marked free). */
async function idle(pool: ThreadPool): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (pool.runningCount > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ThreadPool', function () {
  this.timeout(10_000);
  let reactor: NodeReactor;
  let pool: ThreadPool;

  before(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    pool = new ThreadPool({ reactor, maxThreads: 2 });
  });

  after(async () => {
    await pool.stop();
  });

  describe('deferToThread', () => {
    it('round-trips arguments and the result through a worker', async () => {
      const sum = await pool.deferToThread<number>(WORK, 'add', 2, 40);
      expect(sum).to.equal(42);
      const value = {
        list: [1, 'two', null],
        nested: { at: new Date(0) },
        bytes: new Uint8Array([7]),
      };
      expect(await pool.deferToThread(WORK, 'slowEcho', value, 1)).to.deep.equal(value);
    });

    it('accepts an absolute path as well as a file: URL', async () => {
      const { fileURLToPath } = await import('node:url');
      expect(await pool.deferToThread(fileURLToPath(WORK), 'add', 1, 2)).to.equal(3);
      expect(await pool.deferToThread(WORK.href, 'add', 1, 3)).to.equal(4);
    });

    it('fires on the reactor, after deferToThread returned', async () => {
      const order: string[] = [];
      const d = pool.deferToThread<number>(WORK, 'add', 1, 1).addCallback((n) => {
        order.push(`result ${n}`);
        return n;
      });
      order.push('returned');
      await d;
      expect(order).to.deep.equal(['returned', 'result 2']);
    });

    it("fails with the worker's error: class, name, message, code and stack", async () => {
      const err = await failureOf(pool.deferToThread(WORK, 'fails', 'no good'));
      expect(err).to.be.instanceOf(RangeError);
      expect(err.message).to.equal('no good');
      expect((err as { code?: string }).code).to.equal('E_FIXTURE');
      expect(err.stack).to.match(/at fails \(.*work\.mjs:\d+:\d+\)/);
    });

    it('keeps the name of a custom error class', async () => {
      let failure: Failure | null = null;
      await pool.deferToThread(WORK, 'failsCustom', 'custom').addErrback((f: Failure) => {
        failure = f;
      });
      expect(failure).to.not.equal(null);
      const value = (failure as unknown as Failure).value;
      expect(value.name).to.equal('CustomError');
      expect(value.message).to.equal('custom');
      expect(value.stack).to.match(/at failsCustom/);
    });

    it('fails with a ThreadModuleError naming a missing module', async () => {
      const missing = new URL('./fixtures/no-such-module.mjs', import.meta.url);
      const err = await failureOf(pool.deferToThread(missing, 'add'));
      expect(err).to.be.instanceOf(ThreadModuleError);
      expect(err.message).to.include('no-such-module.mjs');
      if (!(err instanceof ThreadModuleError)) throw err;
      expect(err.module).to.equal(missing.href);
      expect(err.exportName).to.equal('add');
    });

    it('fails with a ThreadModuleError naming a missing export and listing the exports', async () => {
      const err = await failureOf(pool.deferToThread(WORK, 'nope'));
      expect(err).to.be.instanceOf(ThreadModuleError);
      expect(err.message).to.include('no export named "nope"');
      expect(err.message).to.include('add, ');
      const notFn = await failureOf(pool.deferToThread(WORK, 'notAFunction'));
      expect(notFn.message).to.include('"notAFunction" is number, not a function');
    });

    it('fails with a TypeError when an argument cannot be cloned, and keeps working', async () => {
      const err = await failureOf(pool.deferToThread(WORK, 'add', () => 1, 2));
      expect(err).to.be.instanceOf(TypeError);
      expect(err.message).to.match(/arguments for add cannot be sent to a worker thread/);
      expect(await pool.deferToThread(WORK, 'add', 1, 2)).to.equal(3);
    });

    it('fails with a TypeError when the result cannot be cloned', async () => {
      const err = await failureOf(pool.deferToThread(WORK, 'returnsFunction'));
      expect(err).to.be.instanceOf(TypeError);
      expect(err.message).to.match(
        /result of returnsFunction .* cannot be sent to the main thread/,
      );
      expect(await pool.deferToThread(WORK, 'add', 2, 2)).to.equal(4);
    });

    it('fails clearly when the worker dies during the task, and replaces the worker', async () => {
      const err = await failureOf(pool.deferToThread(WORK, 'exitsWorker', 3));
      expect(err.message).to.match(
        /worker thread running exitsWorker from .*work\.mjs exited before it finished/,
      );
      expect(await pool.deferToThread(WORK, 'add', 3, 3)).to.equal(6);
    });

    it('throws a TypeError at once for a relative path, a bare name or a function', () => {
      expect(() => pool.deferToThread('./fixtures/work.mjs', 'add')).to.throw(
        TypeError,
        /absolute path or a file: URL.*new URL\("\.\/fixtures\/work\.mjs", import\.meta\.url\)/,
      );
      expect(() => pool.deferToThread('some-package', 'add')).to.throw(
        TypeError,
        /import\.meta\.resolve/,
      );
      expect(() => pool.deferToThread(new URL('https://example.com/x.js'), 'add')).to.throw(
        TypeError,
        /not a https: URL/,
      );
      expect(() => pool.deferToThread(WORK, '')).to.throw(TypeError, /non-empty string/);
    });
  });

  describe('cancel()', () => {
    it('terminates a running task: CancelledError, and the pool goes on', async () => {
      const started = Date.now();
      const d = pool.deferToThread(WORK, 'spin', 5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      d.cancel();
      const err = await failureOf(d);
      expect(err).to.be.instanceOf(CancelledError);
      expect(Date.now() - started).to.be.below(2_000);
      expect(await pool.deferToThread(WORK, 'add', 5, 5)).to.equal(10);
    });

    it('drops a queued task before it runs', async () => {
      await idle(pool);
      const shared = new SharedArrayBuffer(8);
      const busy = [
        pool.deferToThread(WORK, 'concurrent', shared, 2, 50),
        pool.deferToThread(WORK, 'concurrent', shared, 2, 50),
      ];
      const queued = pool.deferToThread(WORK, 'concurrent', shared, 1, 0);
      expect(pool.queueSize).to.equal(1);
      queued.cancel();
      expect(pool.queueSize).to.equal(0);
      expect(await failureOf(queued)).to.be.instanceOf(CancelledError);
      const counts = await Promise.all(busy);
      expect(counts.sort()).to.deep.equal([1, 2]);
      // The cancelled task never ran: only the two busy ones touched the counter.
      expect(new Int32Array(shared)[1]).to.equal(2);
    });
  });

  describe('a worker failing outside any task', () => {
    it('is logged, and the pool replaces the worker', async () => {
      const logs = LogCapture.start();
      try {
        expect(await pool.deferToThread(WORK, 'throwsLater', 'stray timer')).to.equal('returned');
        const deadline = Date.now() + 5_000;
        while (logs.failures().length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        logs.stop();
      }
      expect(logs.failures()[0]?.getErrorMessage()).to.equal('stray timer');
      expect(logs.messages('error')).to.include('A worker thread failed outside any task');
      expect(await pool.deferToThread(WORK, 'add', 7, 7)).to.equal(14);
    });
  });

  describe('callInThread', () => {
    it('logs a failure with its stack and never throws', async () => {
      const logs = LogCapture.start();
      try {
        pool.callInThread(WORK, 'fails', 'fire and forget');
        const deadline = Date.now() + 5_000;
        while (logs.failures().length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        logs.stop();
      }
      const [failure] = logs.failures();
      expect(failure?.value).to.be.instanceOf(RangeError);
      expect(failure?.getErrorMessage()).to.equal('fire and forget');
      expect(failure?.getTraceback()).to.match(/at fails/);
      expect(logs.messages('error')[0]).to.include('callInThread(): fails failed');
    });
  });
});
