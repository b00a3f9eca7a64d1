/**
 * Runtime detection: whether this process runs on Bun, so a program (or the
 * `torsion` runner) can pick BunReactor there and NodeReactor elsewhere.
 *
 * Tests: test/reactor.bun.test.ts
 * @module
 */

/**
 * Whether the current process runs on Bun (`process.versions.bun` is set,
 * and so is the `Bun` global).
 *
 * @example
 * ```ts
 * const reactor = isBun() ? new BunReactor() : new NodeReactor();
 * ```
 */
export function isBun(): boolean {
  return typeof Bun !== 'undefined' && typeof process.versions.bun === 'string';
}

/** Bun's version (`'1.4.5'`), or `undefined` when not running on Bun. */
export function bunVersion(): string | undefined {
  return isBun() ? process.versions.bun : undefined;
}
