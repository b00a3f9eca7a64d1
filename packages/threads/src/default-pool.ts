/**
 * Each reactor's own thread pool, created when first asked for, and the free
 * functions that use the default reactor's: `deferToThread`, `callInThread`
 * and `suggestThreadPoolSize`, as Twisted's `threads.deferToThread`,
 * `reactor.callInThread` and `reactor.suggestThreadPoolSize`.
 *
 * The pools are kept on `globalThis` (by reactor, weakly) so that every copy
 * of this package in a process shares them, as the default reactor is shared.
 *
 * Tests: test/default-pool.test.ts
 * @module
 */
import { getReactor, type Deferred, type IReactor } from '@torsion/core';
import type { ModulePath } from './module-path.js';
import { ThreadPool } from './thread-pool.js';

const SLOT = Symbol.for('@torsion/threads/reactor-pools');

function pools(): WeakMap<IReactor, ThreadPool> {
  const holder = globalThis as unknown as Record<symbol, WeakMap<IReactor, ThreadPool> | undefined>;
  let found = holder[SLOT];
  if (found === undefined) {
    found = new WeakMap();
    holder[SLOT] = found;
  }
  return found;
}

/**
 * The thread pool of `reactor` (default: `getReactor()`), created with the
 * default sizes on first use, as Twisted's `reactor.getThreadPool()`. It is
 * stopped when the reactor shuts down; after that it stays stopped and every
 * task given to it fails with `ThreadPoolStoppedError`.
 */
export function getThreadPool(reactor: IReactor = getReactor()): ThreadPool {
  const all = pools();
  let pool = all.get(reactor);
  if (pool === undefined) {
    pool = new ThreadPool({ reactor });
    all.set(reactor, pool);
  }
  return pool;
}

/**
 * {@link ThreadPool.deferToThread} on the default reactor's pool, as Twisted's
 * `threads.deferToThread`.
 * @throws TypeError for a relative module path or a bad export name.
 */
export function deferToThread<T = unknown>(
  modulePath: ModulePath,
  exportName: string,
  ...args: unknown[]
): Deferred<T> {
  return getThreadPool().deferToThread<T>(modulePath, exportName, ...args);
}

/**
 * {@link ThreadPool.callInThread} on the default reactor's pool, as Twisted's
 * `reactor.callInThread`. Failures are logged.
 * @throws TypeError for a relative module path or a bad export name.
 */
export function callInThread(modulePath: ModulePath, exportName: string, ...args: unknown[]): void {
  getThreadPool().callInThread(modulePath, exportName, ...args);
}

/**
 * Sets the most tasks the default reactor's pool runs at once, as Twisted's
 * `reactor.suggestThreadPoolSize`.
 * @throws RangeError unless `size` is an integer >= 1.
 */
export function suggestThreadPoolSize(size: number): void {
  getThreadPool().suggestThreadPoolSize(size);
}
