// The pool stops with its reactor: queued and running tasks fail clearly,
// later ones fail at once, and no worker keeps the process alive.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NodeReactor } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { getThreadPool, ThreadPool, ThreadPoolStoppedError } from '../src/index.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);

async function failureOf(d: PromiseLike<unknown>): Promise<Error> {
  try {
    await d;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** Runs a fixture script with plain node (the built package); resolves with its stdout and run time. */
function runScript(name: string): Promise<{ stdout: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))],
      { timeout: 8_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err !== null) {
          reject(new Error(`${name} did not exit cleanly on its own: ${err.message}\n${stderr}`));
        } else {
          resolve({ stdout, seconds: (Date.now() - started) / 1000 });
        }
      },
    );
  });
}

describe('ThreadPool shutdown', function () {
  this.timeout(15_000);

  it('stops with the reactor: running and queued tasks fail, later ones fail at once', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const pool = getThreadPool(reactor);
    pool.suggestThreadPoolSize(1);
    const running = pool.deferToThread(WORK, 'spin', 30_000);
    const queued = pool.deferToThread(WORK, 'add', 1, 1);
    const done = reactor.run();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = Date.now();
    reactor.stop();
    await done;
    expect(Date.now() - started).to.be.below(3_000);
    expect(pool.stopped).to.equal(true);
    const terminated = await failureOf(running);
    expect(terminated).to.be.instanceOf(ThreadPoolStoppedError);
    expect(terminated.message).to.match(/spin from .*work\.mjs was terminated/);
    const dropped = await failureOf(queued);
    expect(dropped).to.be.instanceOf(ThreadPoolStoppedError);
    expect(dropped.message).to.match(/add from .* did not run/);
    const later = await failureOf(pool.deferToThread(WORK, 'add', 2, 2));
    expect(later).to.be.instanceOf(ThreadPoolStoppedError);
    expect(later.message).to.match(/the thread pool is stopped/);
    // The reactor keeps the same (stopped) pool: nothing restarts behind its back.
    expect(getThreadPool(reactor)).to.equal(pool);
  });

  it('stop() by hand is idempotent, and the reactor shuts down quietly after it', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const pool = new ThreadPool({ reactor });
    expect(await pool.deferToThread(WORK, 'add', 20, 1)).to.equal(21);
    await Promise.all([pool.stop(), pool.stop()]);
    expect(pool.stopped).to.equal(true);
    const logs = LogCapture.start();
    try {
      const done = reactor.run();
      reactor.stop();
      await done;
    } finally {
      logs.stop();
    }
    expect(logs.messages('warn')).to.deep.equal([]);
  });

  it('a pool that never ran a task stops at once', async () => {
    const pool = new ThreadPool({ reactor: new NodeReactor({ installSignalHandlers: false }) });
    await pool.stop();
    expect(pool.stopped).to.equal(true);
  });

  describe('the process', () => {
    it('exits on its own after using the default pool without stopping it', async () => {
      const { stdout, seconds } = await runScript('exit-idle.mjs');
      expect(JSON.parse(stdout)).to.deep.equal([3, 7]);
      expect(seconds).to.be.below(5);
    });

    it('exits on its own once the reactor stopped, even with a task that never ends', async () => {
      const { stdout, seconds } = await runScript('exit-shutdown.mjs');
      const report = JSON.parse(stdout) as { stopped: boolean; outcomes: string[] };
      expect(report.stopped).to.equal(true);
      expect(report.outcomes).to.have.length(3);
      expect(report.outcomes[0]).to.match(/^ThreadPoolStoppedError: .*did not run/);
      expect(report.outcomes[1]).to.match(/^ThreadPoolStoppedError: spin .*was terminated/);
      expect(report.outcomes[2]).to.match(/^ThreadPoolStoppedError: .*is stopped/);
      expect(seconds).to.be.below(5);
    });
  });
});
