/**
 * `SystemEventTriggers`: the three-phase (`before`, `during`, `after`) system
 * event triggers around a reactor's startup and shutdown, as Twisted's
 * `_ThreePhaseEvent`: each phase runs its triggers in the order they were
 * added and waits for the Deferreds and promises they return before the next
 * phase begins; a trigger that throws or fails is logged and the sequence
 * goes on. ReactorBase owns one and adds its own `during` work.
 *
 * Tests: test/reactor-kit/reactor-base.test.ts, and the lifecycle part of the
 * conformance suite (@torsion/reactor-conformance) on every reactor
 * @module
 */
import { describeType } from '../describe-type.js';
import type { SystemEventPhase, SystemEventTriggerId, SystemEventType } from '../interfaces.js';
import { isThenable } from '../is-thenable.js';
import type { Logger } from '../log.js';
import { callSafely, THREW } from './call-safely.js';

const PHASES: readonly SystemEventPhase[] = ['before', 'during', 'after'];
const EVENTS: readonly SystemEventType[] = ['startup', 'shutdown'];

interface Trigger {
  readonly id: SystemEventTriggerId;
  readonly event: SystemEventType;
  readonly phase: SystemEventPhase;
  readonly fn: (...args: unknown[]) => unknown;
  readonly args: unknown[];
  /** Results are waited for (false for `callWhenRunning` calls). */
  readonly awaited: boolean;
  removed: boolean;
}

function describeFn(fn: (...args: never[]) => unknown): string {
  return fn.name === '' ? '(anonymous)' : fn.name;
}

/** The system event triggers of one reactor. */
export class SystemEventTriggers {
  readonly #log: Logger;
  readonly #triggers = new Map<SystemEventTriggerId, Trigger>();

  /** @param log - where a failing trigger is reported (the reactor's namespace). */
  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Adds a trigger, checking its arguments (JavaScript callers get no
   * compile-time check).
   * @param awaited - whether its result is waited for before the next phase.
   * @throws TypeError for an unknown phase or event, or if `fn` is not a function.
   */
  add(
    phase: SystemEventPhase,
    event: SystemEventType,
    fn: (...args: unknown[]) => unknown,
    args: unknown[],
    awaited: boolean,
    caller = 'addSystemEventTrigger()',
  ): SystemEventTriggerId {
    if (!PHASES.includes(phase)) {
      throw new TypeError(`phase must be 'before', 'during' or 'after', got ${phase}`);
    }
    if (!EVENTS.includes(event)) {
      throw new TypeError(`eventType must be 'startup' or 'shutdown', got ${event}`);
    }
    if (typeof fn !== 'function') {
      throw new TypeError(`${caller} needs a function, got ${describeType(fn)}`);
    }
    const id = Symbol(`${phase} ${event}: ${fn.name === '' ? 'anonymous' : fn.name}`);
    this.#triggers.set(id, { id, event, phase, fn, args, awaited, removed: false });
    return id;
  }

  /**
   * Removes a trigger; if its phase is firing and it has not run yet, it will not run.
   * @throws Error if `id` names no trigger (never added, or already removed).
   */
  remove(id: SystemEventTriggerId): void {
    const trigger = this.#triggers.get(id);
    if (trigger === undefined) {
      throw new Error(`No system event trigger with id ${String(id.description)}`);
    }
    trigger.removed = true;
    this.#triggers.delete(id);
  }

  /**
   * Fires the three phases of `event`. `builtin` is the reactor's own
   * `during` work; it runs before the user's `during` triggers.
   */
  async fire(event: SystemEventType, builtin: () => Promise<void> | undefined): Promise<void> {
    for (const phase of PHASES) {
      const waits: PromiseLike<unknown>[] = [];
      if (phase === 'during') {
        const work = builtin();
        if (work !== undefined) waits.push(work);
      }
      // Snapshot: triggers added to a phase while it fires run only if added before it began.
      const triggers = [...this.#triggers.values()].filter(
        (t) => t.event === event && t.phase === phase,
      );
      for (const trigger of triggers) {
        if (trigger.removed) continue;
        this.#triggers.delete(trigger.id);
        const what = `${trigger.phase} ${trigger.event} trigger ${describeFn(trigger.fn)}`;
        const result = callSafely(
          this.#log,
          `Unhandled error in ${what}`,
          {},
          trigger.fn,
          ...trigger.args,
        );
        if (result === THREW || !isThenable(result)) continue;
        const settled = Promise.resolve(result).then(undefined, (err: unknown) => {
          this.#log.failure(`Unhandled error in ${what}`, err);
        });
        if (trigger.awaited) waits.push(settled);
      }
      if (waits.length > 0) await Promise.all(waits);
    }
  }
}
