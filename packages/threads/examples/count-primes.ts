/**
 * Count primes in worker threads while the reactor stays free, with progress
 * reported back through callFromThread. docs/threads.md shows this file;
 * test/examples.test.ts runs it.
 */
import type { IReactor } from '@torsion/core';
import { ThreadPool } from '@torsion/threads';

// Absolute file: URLs, resolved next to this file: the worker cannot resolve
// a relative path against your module.
const PRIMES = new URL('./primes.js', import.meta.url);
const PROGRESS = new URL('./progress.js', import.meta.url).href;

/** The number of primes below each limit, counted two at a time in worker threads. */
export async function countPrimesInThreads(
  reactor: IReactor,
  limits: readonly number[],
): Promise<number[]> {
  const pool = new ThreadPool({ reactor, maxThreads: 2 });
  try {
    return await Promise.all(
      limits.map((limit) => pool.deferToThread<number>(PRIMES, 'countPrimes', limit, PROGRESS)),
    );
  } finally {
    await pool.stop();
  }
}
