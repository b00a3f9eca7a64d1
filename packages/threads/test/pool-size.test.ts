// The pool's size is a real bound: never more tasks run at once than
// maxThreads, measured by the workers themselves in shared memory; resizing
// takes effect for tasks not yet started.
import { expect } from 'chai';
import { availableParallelism } from 'node:os';
import { NodeReactor } from '@torsion/core';
import { ThreadPool } from '../src/index.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);

/**
 * Runs `count` tasks that each wait until `expected` run at once (see the
 * fixture), then hold their thread `holdMs`; returns the most that ran at once.
 */
async function highestConcurrency(
  pool: ThreadPool,
  count: number,
  expected: number,
  holdMs: number,
): Promise<number> {
  const shared = new SharedArrayBuffer(8);
  const runs = Array.from({ length: count }, () =>
    pool.deferToThread<number>(WORK, 'concurrent', shared, expected, holdMs),
  );
  await Promise.all(runs);
  return new Int32Array(shared)[1]!;
}

describe('ThreadPool size', function () {
  this.timeout(15_000);
  const reactor = new NodeReactor({ installSignalHandlers: false });
  const pools: ThreadPool[] = [];
  const makePool = (options: ConstructorParameters<typeof ThreadPool>[0]): ThreadPool => {
    const pool = new ThreadPool({ reactor, ...options });
    pools.push(pool);
    return pool;
  };

  after(async () => {
    await Promise.all(pools.map((pool) => pool.stop()));
  });

  it('runs at most maxThreads tasks at once, and queues the rest', async () => {
    const pool = makePool({ maxThreads: 2 });
    const shared = new SharedArrayBuffer(8);
    // Each waits for a partner and then holds on: a third would start now if the bound leaked.
    const runs = Array.from({ length: 4 }, () =>
      pool.deferToThread<number>(WORK, 'concurrent', shared, 2, 80),
    );
    expect(pool.runningCount).to.equal(2);
    expect(pool.queueSize).to.equal(2);
    await Promise.all(runs);
    expect(new Int32Array(shared)[1]).to.equal(2);
  });

  it('uses several threads when allowed (the bound is not just one)', async () => {
    const pool = makePool({ maxThreads: 3 });
    expect(await highestConcurrency(pool, 3, 3, 50)).to.equal(3);
  });

  it('suggestThreadPoolSize(1) serialises tasks not yet started', async () => {
    const pool = makePool({ maxThreads: 3 });
    pool.suggestThreadPoolSize(1);
    expect(pool.maxThreads).to.equal(1);
    expect(await highestConcurrency(pool, 3, 1, 40)).to.equal(1);
  });

  it('adjustPoolsize up while a task runs: queued tasks start at once, next to it', async () => {
    const pool = makePool({ maxThreads: 1 });
    const shared = new SharedArrayBuffer(8);
    const runs = Array.from({ length: 3 }, () =>
      pool.deferToThread<number>(WORK, 'concurrent', shared, 3, 50),
    );
    expect(pool.runningCount).to.equal(1);
    pool.adjustPoolsize(0, 3);
    expect(pool.runningCount).to.equal(3);
    expect(pool.queueSize).to.equal(0);
    await Promise.all(runs);
    expect(new Int32Array(shared)[1]).to.equal(3);
  });

  it('adjustPoolsize down while tasks run: queued tasks wait for the running ones', async () => {
    const pool = makePool({ maxThreads: 3 });
    const before = new SharedArrayBuffer(8);
    const after = new SharedArrayBuffer(8);
    const running = Array.from({ length: 3 }, () =>
      pool.deferToThread<number>(WORK, 'concurrent', before, 3, 50),
    );
    const queued = Array.from({ length: 2 }, () =>
      pool.deferToThread<number>(WORK, 'concurrent', after, 1, 40),
    );
    pool.adjustPoolsize(0, 1);
    expect(pool.runningCount).to.equal(3);
    expect(pool.queueSize).to.equal(2);
    await Promise.all(running);
    expect(new Int32Array(before)[1]).to.equal(3);
    await Promise.all(queued);
    expect(new Int32Array(after)[1]).to.equal(1);
  });

  it('defaults maxThreads to the available parallelism and minThreads to 0', () => {
    const pool = new ThreadPool({ reactor });
    expect(pool.maxThreads).to.equal(availableParallelism());
    expect(pool.minThreads).to.equal(0);
  });

  it('rejects sizes that make no sense with a RangeError', () => {
    expect(() => new ThreadPool({ maxThreads: 0 })).to.throw(RangeError, /maxThreads/);
    expect(() => new ThreadPool({ minThreads: -1 })).to.throw(RangeError, /minThreads/);
    expect(() => new ThreadPool({ minThreads: 3, maxThreads: 2 })).to.throw(RangeError);
    expect(() => new ThreadPool({ maxThreads: 1.5 })).to.throw(RangeError);
    expect(() => new ThreadPool({ idleTimeout: -1 })).to.throw(RangeError, /idleTimeout/);
    const pool = new ThreadPool({ reactor, maxThreads: 2 });
    expect(() => pool.adjustPoolsize(3, 2)).to.throw(RangeError);
    expect(() => pool.suggestThreadPoolSize(0)).to.throw(RangeError);
    expect(pool.maxThreads).to.equal(2);
  });
});
