/**
 * The reactor side of `callFromThread`, as Twisted's `threadCallQueue`: what
 * workers hand back (calls to a module's export, and task results) runs on
 * the reactor with `callLater(0)`, in the order it arrived. A call whose
 * module is still being imported holds back everything behind it, so a task
 * that calls `callFromThread(progress)` and then returns always has its
 * progress call run before its Deferred fires.
 *
 * Tests: test/call-from-thread.test.ts
 * @module
 */
import { isThenable, Logger, type IDelayedCall, type IReactor } from '@torsion/core';
import { ThreadModuleError } from '../errors.js';
import { importModule } from './import-module.js';

const log = new Logger('torsion.threads');

type Namespace = Record<string, unknown>;

type Entry =
  | { readonly kind: 'call'; readonly module: string; readonly exportName: string; args: unknown[] }
  | { readonly kind: 'fire'; readonly fn: () => void };

/** Runs work handed back by threads on one reactor, in arrival order. */
export class ThreadCallQueue {
  readonly #reactor: () => IReactor;
  readonly #entries: Entry[] = [];
  /** Imported modules (or why they failed), by file: URL. */
  readonly #modules = new Map<string, Namespace | { failed: unknown }>();
  #importing = false;
  /** Fires handed to the reactor and not run yet; {@link ThreadCallQueue.close} runs them now. */
  readonly #scheduledFires = new Map<IDelayedCall, () => void>();
  #closed = false;

  /** @param reactor - looked up when first needed, so a default reactor is created lazily. */
  constructor(reactor: () => IReactor) {
    this.#reactor = reactor;
  }

  /** Queues `module[exportName](...args)` to run on the reactor. Errors it throws or rejects with are logged. */
  call(module: string, exportName: string, args: unknown[]): void {
    if (this.#closed) {
      log.warn('callFromThread() arrived after the thread pool stopped; dropped', {
        module,
        exportName,
      });
      return;
    }
    this.#entries.push({ kind: 'call', module, exportName, args });
    this.#pump();
  }

  /** Queues `fn` (which must not throw) to run on the reactor after everything queued before it. */
  fire(fn: () => void): void {
    if (this.#closed) {
      fn();
      return;
    }
    this.#entries.push({ kind: 'fire', fn });
    this.#pump();
  }

  /**
   * Stops using the reactor (which may be shutting down and dropping delayed
   * calls): every pending fire runs now, in order; pending calls are dropped
   * with a warning; later fires run at once.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [call, fn] of this.#scheduledFires) {
      if (call.active()) call.cancel();
      fn();
    }
    this.#scheduledFires.clear();
    const entries = this.#entries.splice(0);
    for (const entry of entries) {
      if (entry.kind === 'fire') {
        entry.fn();
      } else {
        log.warn('callFromThread() dropped: the thread pool stopped before it could run', {
          module: entry.module,
          exportName: entry.exportName,
        });
      }
    }
  }

  #pump(): void {
    while (!this.#importing && !this.#closed) {
      const entry = this.#entries[0];
      if (entry === undefined) return;
      if (entry.kind === 'call' && !this.#modules.has(entry.module)) {
        this.#import(entry.module);
        return;
      }
      this.#entries.shift();
      this.#schedule(entry);
    }
  }

  #import(module: string): void {
    this.#importing = true;
    void importModule(module)
      .then(
        (namespace) => {
          this.#modules.set(module, namespace);
        },
        (err: unknown) => {
          // Remembered, so a module that cannot load fails every call the same way.
          this.#modules.set(module, { failed: err });
        },
      )
      .finally(() => {
        this.#importing = false;
        this.#pump();
      });
  }

  #schedule(entry: Entry): void {
    const reactor = this.#reactor();
    if (entry.kind === 'fire') {
      const call = reactor.callLater(0, () => {
        this.#scheduledFires.delete(call);
        entry.fn();
      });
      this.#scheduledFires.set(call, entry.fn);
      return;
    }
    const loaded = this.#modules.get(entry.module);
    reactor.callLater(0, () => {
      this.#run(entry.module, entry.exportName, entry.args, loaded);
    });
  }

  #run(
    module: string,
    exportName: string,
    args: unknown[],
    loaded: Namespace | { failed: unknown } | undefined,
  ): void {
    const fields = { module, exportName };
    if (loaded === undefined || 'failed' in loaded) {
      const cause = loaded?.failed;
      const why = cause instanceof Error ? `: ${cause.message}` : '';
      log.failure(
        `callFromThread(): cannot import ${module}${why}`,
        new ThreadModuleError(`Cannot import ${module}${why}`, { module, exportName, cause }),
        fields,
      );
      return;
    }
    const fn = loaded[exportName];
    if (typeof fn !== 'function') {
      log.failure(
        `callFromThread(): ${module} has no function export "${exportName}"`,
        new ThreadModuleError(`${module} has no function export "${exportName}"`, {
          module,
          exportName,
        }),
        fields,
      );
      return;
    }
    const onError = (err: unknown): void => {
      log.failure(`callFromThread(): ${exportName} from ${module} failed`, err, fields);
    };
    try {
      const result: unknown = (fn as (...a: unknown[]) => unknown)(...args);
      if (isThenable(result)) result.then(undefined, onError);
    } catch (err) {
      onError(err);
    }
  }
}
