/**
 * `SeededRandom`: a small pseudo-random generator that repeats exactly for a
 * given seed, on every platform. Test doubles draw every random choice from
 * one (chunk boundaries, latency jitter), so a failing run can be replayed
 * by reusing its seed; `Math.random` cannot be seeded.
 *
 * Tests: test/testing/simulated/simulated-network.test.ts, test/testing/chunkers.test.ts
 * @module
 */

/**
 * The mulberry32 generator: 32 bits of state, a period of 2^32, good enough
 * to vary cut points and delays, and the same on every platform.
 *
 * @param seed - any number; only its low 32 bits are used.
 * @returns a function returning numbers in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seeded source of random numbers.
 *
 * @example
 * ```ts
 * const random = new SeededRandom(42);
 * random.next(); // the same number on every run
 * random.integer(1, 6); // a die roll, the same on every run
 * ```
 */
export class SeededRandom {
  /** The seed this generator started from (an unsigned 32-bit integer). */
  readonly seed: number;
  readonly #next: () => number;

  /**
   * @param seed - any finite number; its low 32 bits are the seed.
   * @throws RangeError if `seed` is not a finite number.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new RangeError(`seed must be a finite number, got ${String(seed)}`);
    }
    this.seed = seed >>> 0;
    this.#next = mulberry32(this.seed);
  }

  /** A seed drawn from `Math.random`, for runs that should explore; print it to replay one. */
  static randomSeed(): number {
    return Math.floor(Math.random() * 4294967296) >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    return this.#next();
  }

  /**
   * The next integer from `min` to `max`, both included.
   * @throws RangeError unless `min <= max` are both safe integers.
   */
  integer(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new RangeError(`integer() needs safe integers min <= max, got ${min}, ${max}`);
    }
    return min + Math.floor(this.#next() * (max - min + 1));
  }

  /** A fresh 32-bit seed for a generator of its own (one per connection, say). */
  fork(): number {
    return Math.floor(this.#next() * 4294967296) >>> 0;
  }
}
