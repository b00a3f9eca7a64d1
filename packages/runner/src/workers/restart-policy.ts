/**
 * When the primary restarts a crashed worker, and when it gives up. A pure
 * object over a clock, so that every decision is testable with `Clock`: the
 * supervisor tells it each crash and gets back a delay or a refusal.
 *
 * Crashes are counted across all workers, since a bad deploy or a poisoned
 * request crashes every worker alike: `limit` crashes within `windowSeconds`
 * is a crash loop, and restarting stops for good (the workers still alive
 * keep serving). Below that, the delay doubles with each crash still inside
 * the window, from `initialDelay` up to `maxDelay`, so a worker that dies at
 * start-up does not spin a core, and one crash after a quiet hour is
 * restarted at once.
 *
 * Tests: test/workers-restart-policy.test.ts
 * @module
 */

/** Settings of a {@link RestartPolicy}, all times in seconds. */
export interface RestartPolicyOptions {
  /** This many crashes within `windowSeconds` is a crash loop (the last one is not restarted). */
  readonly limit: number;
  /** How far back crashes count. */
  readonly windowSeconds: number;
  /** The wait before restarting after the first crash in the window. */
  readonly initialDelay: number;
  /** The longest wait, however many crashes. */
  readonly maxDelay: number;
}

/** `--restart-limit 5`, `--restart-window 60`: 5 crashes within 60 s stop the restarts; waits 0.1 s, 0.2 s, … up to 10 s. */
export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = Object.freeze({
  limit: 5,
  windowSeconds: 60,
  initialDelay: 0.1,
  maxDelay: 10,
});

/** What to do about a crash: restart after `delay` seconds, or stop restarting. */
export type RestartDecision =
  | { readonly restart: true; readonly delay: number; readonly recentCrashes: number }
  | { readonly restart: false; readonly recentCrashes: number };

/** Counts crashes over a sliding window and decides each restart. */
export class RestartPolicy {
  /** The settings in force: the defaults with the constructor's options over them. */
  readonly options: RestartPolicyOptions;
  private readonly crashTimes: number[] = [];
  private gaveUp = false;

  /**
   * @param time - the clock crashes are timed with (a reactor, or `Clock` in tests).
   * @throws RangeError naming the setting when one is out of range.
   */
  constructor(
    private readonly time: { seconds(): number },
    options: Partial<RestartPolicyOptions> = {},
  ) {
    const merged = { ...DEFAULT_RESTART_POLICY, ...options };
    if (!Number.isInteger(merged.limit) || merged.limit < 1) {
      throw new RangeError(`restart limit must be an integer of at least 1, got ${merged.limit}`);
    }
    for (const name of ['windowSeconds', 'initialDelay', 'maxDelay'] as const) {
      if (!Number.isFinite(merged[name]) || merged[name] < 0) {
        throw new RangeError(
          `restart ${name} must be a number of seconds >= 0, got ${merged[name]}`,
        );
      }
    }
    this.options = Object.freeze(merged);
  }

  /** True once a crash loop has been seen: no crash is restarted any more. */
  get stopped(): boolean {
    return this.gaveUp;
  }

  /** Records a crash that happened now and decides whether, and when, to restart. */
  crashed(): RestartDecision {
    const now = this.time.seconds();
    this.crashTimes.push(now);
    const since = now - this.options.windowSeconds;
    while (this.crashTimes.length > 0 && (this.crashTimes[0] ?? now) <= since) {
      this.crashTimes.shift();
    }
    const recentCrashes = this.crashTimes.length;
    if (this.gaveUp || recentCrashes >= this.options.limit) {
      this.gaveUp = true;
      return { restart: false, recentCrashes };
    }
    const delay = Math.min(
      this.options.maxDelay,
      this.options.initialDelay * 2 ** (recentCrashes - 1),
    );
    return { restart: true, delay, recentCrashes };
  }
}
