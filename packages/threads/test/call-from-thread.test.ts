// callFromThread: a task in a worker hands work back to the reactor of the
// pool that runs it; on the main thread it schedules on the default reactor.
import { expect } from 'chai';
import { isMainThread } from 'node:worker_threads';
import { getReactor, NodeReactor } from '@torsion/core';
import { LogCapture, MemoryReactorClock } from '@torsion/core/testing';
import { callFromThread, ThreadPool } from '../src/index.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);
const REPORTER = new URL('./fixtures/reporter.mjs', import.meta.url);
// Imported by URL, as the pool imports it, so that both see the same module
// instance (a static import may be loaded as a separate CommonJS copy under tsx).
const { calls } = (await import(REPORTER.href)) as { calls: [unknown, boolean][] };

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function failureOf(d: PromiseLike<unknown>): Promise<Error> {
  try {
    await d;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('callFromThread', function () {
  this.timeout(10_000);
  const pools: ThreadPool[] = [];

  beforeEach(() => {
    calls.length = 0;
  });

  after(async () => {
    await Promise.all(pools.map((pool) => pool.stop()));
  });

  describe('from a worker', () => {
    let pool: ThreadPool;

    before(() => {
      pool = new ThreadPool({
        reactor: new NodeReactor({ installSignalHandlers: false }),
        maxThreads: 1,
      });
      pools.push(pool);
    });

    it("runs the export on the main thread, in order, before the task's result fires", async () => {
      const seenWhenFired: unknown[] = [];
      const result = await pool
        .deferToThread<string>(WORK, 'withProgress', REPORTER.href, 3)
        .addCallback((value) => {
          seenWhenFired.push(...calls.map(([value]) => value));
          return value;
        });
      expect(result).to.equal('done');
      expect(seenWhenFired).to.deep.equal([1, 2, 3]);
      expect(calls).to.deep.equal([
        [1, true],
        [2, true],
        [3, true],
      ]);
    });

    it('works from a timer the task is still waiting for', async () => {
      expect(await pool.deferToThread(WORK, 'callsFromTimer', REPORTER.href)).to.equal('ok');
      expect(calls).to.deep.equal([['from a timer', true]]);
    });

    it('throws in the worker once the task that made the call has finished', async () => {
      expect(await pool.deferToThread(WORK, 'callsLate', REPORTER.href)).to.equal('returned');
      // maxThreads 1: the same worker, where the late timer has fired by now.
      const seen = await pool.deferToThread<string>(WORK, 'lateErrorSeen');
      expect(seen).to.match(/called after its task \(callsLate\) finished/);
      expect(calls).to.deep.equal([]);
    });

    it('fails the task with a TypeError for a function or an uncloneable argument', async () => {
      const fn = await failureOf(pool.deferToThread(WORK, 'sendsFunction'));
      expect(fn).to.be.instanceOf(TypeError);
      expect(fn.message).to.match(/cannot send a function to the main thread/);
      const symbol = await failureOf(pool.deferToThread(WORK, 'sendsUncloneable', REPORTER.href));
      expect(symbol).to.be.instanceOf(TypeError);
      expect(symbol.message).to.match(/arguments for record cannot be sent to the main thread/);
    });

    it('logs an error the export throws or rejects with, naming it', async () => {
      const logs = LogCapture.start();
      try {
        await pool.deferToThread(WORK, 'forward', REPORTER.href, 'explode', 'kaboom');
        await pool.deferToThread(WORK, 'forward', REPORTER.href, 'rejectLater', 'later');
        await pool.deferToThread(WORK, 'forward', REPORTER.href, 'missing', 'x');
        await until(() => logs.failures().length >= 3, 'three logged failures');
      } finally {
        logs.stop();
      }
      const failures = logs.failures();
      expect(failures.map((f) => f.getErrorMessage())).to.deep.equal([
        'kaboom',
        'later',
        `${REPORTER.href} has no function export "missing"`,
      ]);
      expect(failures[0]!.getTraceback()).to.match(/at explode/);
      expect(failures[1]!.check(TypeError)).to.equal(TypeError);
      expect(logs.messages('error')[0]).to.include('explode');
    });

    it("waits for the pool's reactor to run it", async () => {
      const clock = new MemoryReactorClock();
      const fake = new ThreadPool({ reactor: clock, maxThreads: 1 });
      pools.push(fake);
      let fired = false;
      const d = fake.deferToThread(WORK, 'withProgress', REPORTER.href, 2).addCallback(() => {
        fired = true;
      });
      await until(
        () => clock.getDelayedCalls().length >= 3,
        'the calls and the result to be scheduled',
      );
      expect(calls).to.deep.equal([]);
      expect(fired).to.equal(false);
      clock.advance(0);
      expect(calls.map(([value]) => value)).to.deep.equal([1, 2]);
      expect(fired).to.equal(true);
      await d;
    });
  });

  describe('on the main thread', () => {
    it('schedules a function on the default reactor', async () => {
      expect(isMainThread).to.equal(true);
      const seen: number[] = [];
      callFromThread((a: number, b: number) => seen.push(a + b), 1, 2);
      expect(seen).to.deep.equal([]);
      expect(getReactor().getDelayedCalls().length).to.be.greaterThan(0);
      await until(() => seen.length > 0, 'the call');
      expect(seen).to.deep.equal([3]);
    });

    it("runs a module's export on the default reactor, as a worker's call would", async () => {
      callFromThread(REPORTER, 'record', 'main');
      await until(() => calls.length > 0, 'the call');
      expect(calls).to.deep.equal([['main', true]]);
    });

    it('checks the module path as deferToThread does', () => {
      expect(() => callFromThread('./reporter.mjs', 'record')).to.throw(TypeError, /absolute path/);
    });
  });
});
