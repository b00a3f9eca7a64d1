/**
 * `DeferredList` and `gatherResults`: wait for several Deferreds at once, as
 * Twisted's `defer.DeferredList` / `defer.gatherResults`.
 *
 * Tests: test/deferred-list.test.ts
 * @module
 */
import { Deferred } from './deferred.js';
import { TorsionError } from './errors.js';
import { Failure } from './failure.js';
import { Logger } from './log.js';

const log = new Logger('torsion.defer');

/**
 * The first failure among the Deferreds of a {@link DeferredList} created with
 * `fireOnOneErrback` (and so of {@link gatherResults}).
 */
export class FirstError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_FIRST_ERROR';
  /** The failure of the input Deferred. */
  readonly subFailure: Failure;
  /** The position of that Deferred in the input list. */
  readonly index: number;

  constructor(subFailure: Failure, index: number) {
    super(`FirstError[#${index}, ${subFailure.toString()}]`, { cause: subFailure.value });
    this.subFailure = subFailure;
    this.index = index;
  }
}

/** One input's outcome: `[true, result]` or `[false, failure]`. */
export type DeferredListEntry<T> = [success: true, result: T] | [success: false, failure: Failure];

/** The options of {@link DeferredList}. All default to `false`. */
export interface DeferredListOptions {
  /** Fire with `[result, index]` of the first input that succeeds. */
  readonly fireOnOneCallback?: boolean;
  /** Fail with a {@link FirstError} as soon as one input fails. */
  readonly fireOnOneErrback?: boolean;
  /**
   * Turn each input's failure into `null` in that input's own chain once
   * recorded, so it is not also reported as unhandled there.
   */
  readonly consumeErrors?: boolean;
}

/**
 * What a {@link DeferredList} fires with: the entries in input order, or, unless
 * `O` rules out `fireOnOneCallback`, possibly `[result, index]` of the first success.
 */
export type DeferredListResult<T, O extends DeferredListOptions = DeferredListOptions> = O extends {
  readonly fireOnOneCallback: false;
}
  ? DeferredListEntry<T>[]
  : O extends { readonly fireOnOneCallback: boolean }
    ? [result: T, index: number] | DeferredListEntry<T>[]
    : DeferredListEntry<T>[];

/**
 * A Deferred that fires when all of `deferreds` have fired, with
 * `[success, resultOrFailure]` for each, in input order. An empty list fires at once with `[]`.
 *
 * @remarks The inputs' own chains continue with their results (or `null`
 * for failures when `consumeErrors` is set). With `fireOnOneCallback`, if no
 * input succeeds, the list still fires with the entries once all have failed.
 * Cancelling the list cancels every input that has not fired yet.
 */
export class DeferredList<T, O extends DeferredListOptions = DeferredListOptions> extends Deferred<
  DeferredListResult<T, O>
> {
  readonly #deferreds: Deferred<T>[];

  /**
   * @param deferreds the Deferreds to wait for; callbacks are added to each.
   * @param options see {@link DeferredListOptions}.
   */
  constructor(deferreds: Iterable<Deferred<T>>, options?: O) {
    super();
    const inputs = [...deferreds];
    this.#deferreds = inputs;
    const fireOnOneCallback = options?.fireOnOneCallback === true;
    const fireOnOneErrback = options?.fireOnOneErrback === true;
    const consumeErrors = options?.consumeErrors === true;
    const entries = new Array<DeferredListEntry<T>>(inputs.length);
    let finishedCount = 0;

    // An empty list fires even with fireOnOneCallback: waiting for a success
    // that cannot come would hang the caller forever (Twisted does hang).
    if (inputs.length === 0) this.callback(entries as DeferredListResult<T, O>);

    const record = (entry: DeferredListEntry<T>, index: number): void => {
      entries[index] = entry;
      finishedCount += 1;
      if (this.called) return;
      if (entry[0] && fireOnOneCallback) {
        this.callback([entry[1], index] as DeferredListResult<T, O>);
      } else if (!entry[0] && fireOnOneErrback) {
        this.errback(new Failure(new FirstError(entry[1], index)));
      } else if (finishedCount === inputs.length) {
        this.callback(entries as DeferredListResult<T, O>);
      }
    };

    inputs.forEach((d, index) => {
      d.addCallbacks(
        (result: T) => {
          record([true, result], index);
          return result;
        },
        (failure: Failure) => {
          record([false, failure], index);
          return consumeErrors ? null : failure;
        },
      );
    });
  }

  /** Cancels every input that has not fired (which usually fires this list); a no-op once fired. */
  override cancel(): void {
    if (this.called) return;
    for (const d of this.#deferreds) {
      try {
        d.cancel();
      } catch (err) {
        log.failure('Cancelling an input of a DeferredList threw', err);
      }
    }
    // The inputs' cancellations usually fired us; if not (an input ignored
    // its cancel), the list itself is cancelled as any Deferred.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cancelling the inputs may have fired it
    if (!this.called) super.cancel();
  }
}

/**
 * The results of all of `deferreds`, in input order, or a {@link FirstError}
 * for the first one that fails. An empty list fires at once with `[]`.
 * @param consumeErrors as in {@link DeferredListOptions.consumeErrors}.
 * @returns a cancellable Deferred: cancelling it cancels every input.
 */
export function gatherResults<T>(
  deferreds: Iterable<Deferred<T>>,
  consumeErrors = false,
): Deferred<T[]> {
  const list = new DeferredList(deferreds, { fireOnOneErrback: true, consumeErrors });
  return list.addCallback((entries) => entries.map((entry) => entry[1] as T));
}
