/**
 * Runs in a worker thread: counts primes (CPU-bound work that would stall
 * the reactor), reporting progress back to the main thread as it goes.
 * docs/threads.md shows this file; test/examples.test.ts runs it.
 */
import { callFromThread } from '@torsion/threads';

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false;
  }
  return true;
}

/** How many primes are below `limit`; calls `progress`'s `report` four times on the way. */
export function countPrimes(limit: number, progress: string): number {
  const step = Math.ceil(limit / 4);
  let count = 0;
  for (let n = 0; n < limit; n++) {
    if (isPrime(n)) count++;
    if ((n + 1) % step === 0) callFromThread(progress, 'report', limit, (n + 1) / limit);
  }
  return count;
}
