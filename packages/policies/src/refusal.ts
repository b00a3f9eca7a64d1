/**
 * The refusal hook: every factory that refuses connections by policy
 * (the connection limits here, `HAProxyWrappingFactory` in
 * `@torsion/haproxy`) takes an `onRefused` option and calls it once per
 * refused connection, so an operator can count refusals (a metrics counter
 * labelled by `policy` and `reason`) without parsing log lines.
 *
 * Tests: test/refusal.test.ts, test/connection-limits.test.ts
 * @module
 */
import { Logger, type IAddress } from '@torsion/core';

const log = new Logger('torsion.policies');

/** What {@link OnRefused} is told about one refused connection. */
export interface RefusalEvent {
  /**
   * Which policy refused, stable and fit for a metrics label:
   * `limitTotalConnections`, `limitConnectionsByPeer`,
   * `rateLimitConnectionsByPeer`, `haproxy`.
   */
  readonly policy: string;
  /**
   * The address of the connection as the policy saw it (for the PROXY
   * protocol wrapper, the proxy's: a refused connection never had a
   * believed header).
   */
  readonly peer: IAddress;
  /**
   * Why, as a short stable code fit for a metrics label:
   * `connection-limit`, `peer-connection-limit`, `peer-rate-limit`,
   * `untrusted-proxy`, `bad-header`, `header-timeout`.
   */
  readonly reason: string;
}

/**
 * Called once for each connection a policy refuses, after the log line.
 * An exception it throws is caught and logged with its stack; the refusal
 * goes ahead all the same.
 */
export type OnRefused = (event: RefusalEvent) => void;

/** Options every refusing factory takes. */
export interface RefusalOptions {
  /** Told of each refused connection; see {@link OnRefused}. */
  readonly onRefused?: OnRefused;
}

/**
 * Calls `onRefused` (if any) with `event`, catching and logging what it
 * throws: a metrics hook that fails must not turn a refusal into a crash.
 */
export function notifyRefused(onRefused: OnRefused | undefined, event: RefusalEvent): void {
  if (onRefused === undefined) return;
  try {
    onRefused(event);
  } catch (error) {
    log.failure('onRefused threw; the connection is refused all the same', error, {
      policy: event.policy,
      peer: String(event.peer),
      reason: event.reason,
    });
  }
}

/**
 * Checks an `onRefused` option when a factory is made.
 * @throws TypeError naming the option if it is neither a function nor undefined.
 */
export function checkOnRefused(owner: string, onRefused: unknown): OnRefused | undefined {
  if (onRefused === undefined) return undefined;
  if (typeof onRefused !== 'function') {
    throw new TypeError(`${owner} onRefused: expected a function, got ${typeof onRefused}`);
  }
  return onRefused as OnRefused;
}
