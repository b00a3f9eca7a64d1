/**
 * Runs on the main thread, on the reactor: what the workers in primes.ts
 * hand back with callFromThread.
 */
import { Logger } from '@torsion/core';

const log = new Logger('example.primes');

/** Logs how far the count below `limit` has got. */
export function report(limit: number, fraction: number): void {
  log.info(`primes below ${limit}: ${Math.round(fraction * 100)}%`, { limit, fraction });
}
