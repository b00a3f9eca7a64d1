/**
 * `LogCapture`: records what the library and your code log while a test runs,
 * so the test can assert that an error was logged (with its traceback) instead
 * of letting it scroll past on stderr.
 *
 * Tests: test/testing/log-capture.test.ts
 * @module
 */
import { Failure } from '../failure.js';
import { addLogObserver } from '../log.js';
import type { LogEvent, LogLevel } from '../log.js';

/**
 * A log observer that keeps every event it sees until stopped.
 *
 * @remarks
 * It adds itself next to the other observers; it does not silence them. A
 * capture started in `beforeEach` should be stopped in `afterEach`, or it
 * keeps collecting (and holding memory) for the rest of the run.
 *
 * @example
 * ```ts
 * const logs = LogCapture.start();
 * try {
 *   pump.flush();
 * } finally {
 *   logs.stop();
 * }
 * expect(logs.failures()[0]?.check(RangeError)).to.equal(RangeError);
 * ```
 */
export class LogCapture {
  readonly #events: LogEvent[] = [];
  #remove: (() => void) | null;

  private constructor() {
    this.#remove = addLogObserver((event) => {
      this.#events.push(event);
    });
  }

  /** Starts capturing now. */
  static start(): LogCapture {
    return new LogCapture();
  }

  /** Every event captured so far, oldest first. */
  get events(): readonly LogEvent[] {
    return this.#events;
  }

  /** True until {@link LogCapture.stop} is called. */
  get capturing(): boolean {
    return this.#remove !== null;
  }

  /**
   * The failures logged so far (the `failure` field that `Logger.failure()`
   * attaches), oldest first.
   */
  failures(): Failure[] {
    const found: Failure[] = [];
    for (const event of this.#events) {
      const failure = event.fields.failure;
      if (failure instanceof Failure) found.push(failure);
    }
    return found;
  }

  /**
   * The messages of the events captured so far.
   * @param minimumLevel - only events at this level or above; default: all.
   */
  messages(minimumLevel: LogLevel = 'debug'): string[] {
    const floor = LEVELS.indexOf(minimumLevel);
    return this.#events
      .filter((event) => LEVELS.indexOf(event.level) >= floor)
      .map((event) => event.message);
  }

  /** Forgets the events captured so far; capturing continues. */
  clear(): void {
    this.#events.length = 0;
  }

  /** Stops capturing; the events captured so far stay readable. Safe to call twice. */
  stop(): void {
    this.#remove?.();
    this.#remove = null;
  }
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical'];
