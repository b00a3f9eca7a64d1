// Each reactor has its own pool, made on first use; the free functions use
// the default reactor's, as Twisted's threads.deferToThread uses the reactor's.
import { expect } from 'chai';
import { getReactor, NodeReactor } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { callInThread, deferToThread, getThreadPool, suggestThreadPoolSize } from '../src/index.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);

describe('the default thread pool', function () {
  this.timeout(10_000);

  it('is one pool per reactor, created on first use', async () => {
    const a = new NodeReactor({ installSignalHandlers: false });
    const b = new NodeReactor({ installSignalHandlers: false });
    expect(getThreadPool(a)).to.equal(getThreadPool(a));
    expect(getThreadPool(a)).to.not.equal(getThreadPool(b));
    expect(getThreadPool(a).reactor).to.equal(a);
    await Promise.all([getThreadPool(a).stop(), getThreadPool(b).stop()]);
  });

  it("deferToThread, callInThread and suggestThreadPoolSize use the default reactor's pool", async () => {
    const pool = getThreadPool();
    expect(pool).to.equal(getThreadPool(getReactor()));
    suggestThreadPoolSize(1);
    expect(pool.maxThreads).to.equal(1);
    expect(await deferToThread<number>(WORK, 'add', 4, 5)).to.equal(9);
    const logs = LogCapture.start();
    try {
      callInThread(WORK, 'fails', 'from the default pool');
      const deadline = Date.now() + 5_000;
      while (logs.failures().length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      logs.stop();
    }
    expect(logs.failures()[0]?.getErrorMessage()).to.equal('from the default pool');
    // Idle workers would not keep the process alive, but leave nothing behind.
    await pool.stop();
  });
});
