/**
 * The suite's settings after defaults and validation, shared by every test group.
 * @module
 */
import type { IReactor } from '@torsion/core';
import { REACTOR_CAPABILITIES } from '../options.js';
import type {
  ConformanceOptions,
  ProcessCommands,
  ReactorCapability,
  UNIXFileHooks,
} from '../options.js';

/**
 * Throws if a `knownFailures` title matched no test: a typo would otherwise
 * silently stop tracking the deviation. Called once every test is registered.
 * @throws RangeError naming the unknown titles.
 */
export function checkKnownFailures(settings: SuiteSettings): void {
  const unknown = [...settings.knownFailures.keys()].filter(
    (title) => !settings.matchedKnownFailures.has(title),
  );
  if (unknown.length > 0) {
    throw new RangeError(
      `knownFailures names no test of the suite: ${unknown.map((t) => JSON.stringify(t)).join(', ')}`,
    );
  }
}

/** Wall-clock seconds mocha allows beyond the guard: shutdown and cleanup after a hung test. */
const TEARDOWN_ALLOWANCE = 10;

/** {@link ConformanceOptions} with every default filled in. */
export interface SuiteSettings {
  readonly makeReactor: () => IReactor;
  readonly destroyReactor: ((reactor: IReactor) => Promise<void> | void) | null;
  readonly skip: ReadonlySet<ReactorCapability>;
  readonly knownFailures: ReadonlyMap<string, string>;
  /** Titles of `knownFailures` that a registered test matched. */
  readonly matchedKnownFailures: Set<string>;
  /** Reactor seconds before a test fails as hung. */
  readonly guardSeconds: number;
  /** Mocha's per-test timeout, in milliseconds. */
  readonly mochaTimeoutMs: number;
  /** The UNIX section's file hooks; null for the real file system's. */
  readonly unixFiles: UNIXFileHooks | null;
  /** The process section's commands; null for the real ones. */
  readonly processCommands: ProcessCommands | null;
}

/**
 * Checks the options and fills in the defaults.
 * @throws TypeError / RangeError for a bad option, at registration time.
 */
export function resolveSettings(options: ConformanceOptions): SuiteSettings {
  if (typeof options.makeReactor !== 'function') {
    throw new TypeError('describeReactorConformance() needs a makeReactor() function');
  }
  const skip = new Set<ReactorCapability>();
  for (const name of options.skip ?? []) {
    if (!REACTOR_CAPABILITIES.includes(name)) {
      throw new RangeError(
        `Unknown capability '${name as string}' in skip; known: ${REACTOR_CAPABILITIES.join(', ')}`,
      );
    }
    skip.add(name);
  }
  const timeout = options.timeout ?? 10;
  const scale = options.timeoutScale ?? 1;
  for (const [what, value] of [
    ['timeout', timeout],
    ['timeoutScale', scale],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${what} must be a finite number > 0, got ${String(value)}`);
    }
  }
  const guardSeconds = timeout * scale;
  return {
    makeReactor: () => options.makeReactor(),
    destroyReactor:
      options.destroyReactor === undefined ? null : (reactor) => options.destroyReactor?.(reactor),
    skip,
    knownFailures: new Map(Object.entries(options.knownFailures ?? {})),
    matchedKnownFailures: new Set(),
    guardSeconds,
    unixFiles: options.unixFiles ?? null,
    processCommands: options.processCommands ?? null,
    mochaTimeoutMs: Math.ceil((guardSeconds + TEARDOWN_ALLOWANCE * scale) * 1000),
  };
}
