/**
 * `ThreadPool`: runs a module's export in a worker thread and hands the
 * result back to the reactor as a Deferred, as Twisted's
 * `twisted.python.threadpool.ThreadPool` with `threads.deferToThread`.
 *
 * JavaScript functions cannot cross threads, so work is named by a module
 * (an absolute path or file: URL) and an export; arguments and results are
 * structured-cloned. The workers are a piscina pool; Torsion keeps its own
 * queue in front of it, so that the size can change while tasks run,
 * queued tasks can be cancelled or failed at shutdown without touching a
 * worker, and results arrive on the reactor in order with `callFromThread`
 * calls.
 *
 * Tests: test/thread-pool.test.ts, test/pool-size.test.ts, test/shutdown.test.ts
 * @module
 */
import { availableParallelism } from 'node:os';
import { inspect } from 'node:util';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  CancelledError,
  Deferred,
  fail,
  Failure,
  getReactor,
  Logger,
  type IReactor,
  type SystemEventTriggerId,
} from '@torsion/core';
import { checkInteger } from '@torsion/core/reactor-kit';
import { Piscina } from 'piscina';
import { ThreadPoolStoppedError } from './errors.js';
import { fromErrorRecord, type TaskMessage, type WorkerMessage } from './internal/messages.js';
import { ThreadCallQueue } from './internal/thread-call-queue.js';
import { checkExportName, toModuleURL, type ModulePath } from './module-path.js';

const log = new Logger('torsion.threads');

/**
 * The worker entry module. Under tsx (tests run the sources) this file is
 * `thread-pool.ts` and the runner is its `.ts` sibling: workers inherit the
 * main thread's `--import tsx`, which loads it. Built, both are `.js` in dist/.
 */
const RUNNER = new URL(
  import.meta.url.endsWith('.ts') ? './worker-runner.ts' : './worker-runner.js',
  import.meta.url,
);

/** Options for {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /**
   * Workers kept alive even when idle. Default 0: a worker starts with the
   * first task that needs it (a worker is a whole V8 isolate, tens of
   * milliseconds to start and a few MB each).
   */
  minThreads?: number;
  /**
   * Most tasks running at once (one per worker). Default
   * `os.availableParallelism()`: JavaScript needs threads for CPU-bound work
   * only (Node's I/O does not block), and more busy threads than cores only
   * take turns on them. Twisted's default of 10 is for blocking I/O.
   */
  maxThreads?: number;
  /**
   * Seconds an idle worker above `minThreads` lives before it exits. Default
   * 10. Idle workers never keep the process alive.
   */
  idleTimeout?: number;
  /** The reactor results are delivered on. Default: `getReactor()`, looked up at the first task. */
  reactor?: IReactor;
}

type TaskState = 'queued' | 'running' | 'done';

interface Task {
  readonly module: string;
  readonly exportName: string;
  /** Our end of the task's channel. */
  readonly port: MessagePort;
  /** The worker's end, transferred with the task. */
  readonly remote: MessagePort;
  readonly deferred: Deferred;
  state: TaskState;
  /** The Deferred has been (or is about to be) fired; later outcomes are ignored. */
  settled: boolean;
  abort: AbortController | null;
  workers: Piscina | null;
}

/**
 * A pool of worker threads whose results come back on the reactor.
 *
 * @remarks
 * - The pool starts with its first task: it then looks up its reactor and
 *   adds a `during shutdown` trigger that calls {@link ThreadPool.stop}, so
 *   the reactor's shutdown waits for the workers to be gone.
 * - Results, failures and `callFromThread` calls run on the reactor
 *   (`callLater(0)`), in the order the workers sent them.
 * - Cancelling a queued task drops it; cancelling a running one terminates its
 *   worker (JavaScript cannot interrupt a function any other way; the pool
 *   starts another worker when needed). Either way the Deferred fails with
 *   `CancelledError`.
 * - Idle workers never keep the process alive; running tasks do, like any
 *   pending I/O.
 *
 * @example
 * ```ts
 * const pool = new ThreadPool({ maxThreads: 2 });
 * const digest = await pool.deferToThread<string>(new URL('./hash.js', import.meta.url), 'sha256', data);
 * ```
 */
export class ThreadPool {
  #minThreads: number;
  #maxThreads: number;
  readonly #idleTimeoutMs: number;
  readonly #reactorOption: IReactor | undefined;
  #reactor: IReactor | null = null;
  #shutdownTrigger: SystemEventTriggerId | null = null;
  readonly #calls: ThreadCallQueue;
  /** The piscina pool new tasks go to; created at the first task and after each resize. */
  #workers: Piscina | null = null;
  /** Pools replaced by a resize, with the number of their tasks still running. */
  readonly #retired = new Map<Piscina, number>();
  readonly #queue: Task[] = [];
  readonly #running = new Set<Task>();
  #stopping: Promise<void> | null = null;

  /**
   * @throws RangeError for a size or timeout that is not a non-negative
   *   integer (seconds for `idleTimeout` may be fractional), or `minThreads > maxThreads`.
   */
  constructor(options: ThreadPoolOptions = {}) {
    const minThreads = options.minThreads ?? 0;
    const maxThreads = options.maxThreads ?? Math.max(minThreads, availableParallelism());
    checkInteger(minThreads, 'minThreads', 0);
    checkInteger(maxThreads, 'maxThreads', 1);
    if (minThreads > maxThreads) {
      throw new RangeError(
        `minThreads (${minThreads}) must not be more than maxThreads (${maxThreads})`,
      );
    }
    const idleTimeout = options.idleTimeout ?? 10;
    if (typeof idleTimeout !== 'number' || !(idleTimeout >= 0) || idleTimeout === Infinity) {
      throw new RangeError(
        `idleTimeout must be a finite number of seconds >= 0, got ${String(idleTimeout)}`,
      );
    }
    this.#minThreads = minThreads;
    this.#maxThreads = maxThreads;
    this.#idleTimeoutMs = Math.round(idleTimeout * 1000);
    this.#reactorOption = options.reactor;
    this.#calls = new ThreadCallQueue(() => this.reactor);
  }

  /** The reactor results are delivered on (the default reactor unless one was given). */
  get reactor(): IReactor {
    this.#reactor ??= this.#reactorOption ?? getReactor();
    return this.#reactor;
  }

  /** Workers kept alive when idle. */
  get minThreads(): number {
    return this.#minThreads;
  }

  /** Most tasks running at once. */
  get maxThreads(): number {
    return this.#maxThreads;
  }

  /** Tasks waiting for a free thread. */
  get queueSize(): number {
    return this.#queue.length;
  }

  /** Tasks running in a worker now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** True once {@link ThreadPool.stop} was called (or the reactor shut down). */
  get stopped(): boolean {
    return this.#stopping !== null;
  }

  /**
   * Runs `exportName` from `modulePath` in a worker thread with `args`, as
   * Twisted's `deferToThread`. The export may return a value or a promise.
   *
   * @param modulePath - an absolute path or a file: URL, e.g.
   *   `new URL('./work.js', import.meta.url)`. It is imported in the worker
   *   (once per worker; later tasks reuse it).
   * @param exportName - the exported function to call (`'default'` for a default export).
   * @param args - structured-cloneable values (no functions; class instances
   *   arrive as plain objects).
   * @returns a Deferred that fires on the reactor with the result, or fails
   *   with: the error the export threw (name, message, stack and `code` kept;
   *   built-in classes such as `TypeError` kept); a `ThreadModuleError` when
   *   the module cannot be imported or has no such function; a `TypeError`
   *   when the arguments or the result cannot be cloned; `CancelledError`
   *   after `cancel()`; `ThreadPoolStoppedError` once the pool stopped.
   * @throws TypeError for a relative path, a bare package name or a bad
   *   export name (a mistake in the calling code, as `callLater`'s checks).
   */
  deferToThread<T = unknown>(
    modulePath: ModulePath,
    exportName: string,
    ...args: unknown[]
  ): Deferred<T> {
    const module = toModuleURL(modulePath, 'deferToThread');
    checkExportName(exportName, 'deferToThread');
    if (this.#stopping !== null) {
      return fail(
        new ThreadPoolStoppedError(
          `Cannot run ${exportName} from ${module}: the thread pool is stopped`,
        ),
      );
    }
    const { port1, port2 } = new MessageChannel();
    try {
      // The arguments wait on the channel for the worker: cloned once, now,
      // so that a value that cannot be cloned fails here and not in a worker.
      port1.postMessage(args);
    } catch (err) {
      port1.close();
      const why = err instanceof Error ? err.message : String(err);
      return fail(
        new TypeError(
          `deferToThread(): the arguments for ${exportName} cannot be sent to a worker thread ` +
            `(they must be structured-cloneable: no functions, symbols or class instances with private state): ${why}`,
          { cause: err },
        ),
      );
    }
    const task: Task = {
      module,
      exportName,
      port: port1,
      remote: port2,
      deferred: new Deferred<unknown>(() => {
        this.#cancel(task);
      }),
      state: 'queued',
      settled: false,
      abort: null,
      workers: null,
    };
    this.#start();
    this.#queue.push(task);
    this.#dispatch();
    return task.deferred as Deferred<T>;
  }

  /**
   * Runs `exportName` from `modulePath` in a worker thread and forgets it, as
   * Twisted's `callInThread`. A failure (including a stopped pool) is logged
   * with its stack on `torsion.threads`; it never throws later.
   * @throws TypeError as {@link ThreadPool.deferToThread}, for a bad module path or export name.
   */
  callInThread(modulePath: ModulePath, exportName: string, ...args: unknown[]): void {
    this.deferToThread(modulePath, exportName, ...args).addErrback((failure: Failure) => {
      log.failure(`callInThread(): ${exportName} failed`, failure, {
        module: String(modulePath),
        exportName,
      });
    });
  }

  /**
   * Changes the pool's size, as Twisted's `adjustPoolsize`. Takes effect at
   * once for tasks not yet started; running tasks finish where they are.
   * Shrinking never starts a task beyond the new maximum.
   * @param minThreads - new minimum; unchanged when omitted.
   * @param maxThreads - new maximum; unchanged when omitted.
   * @throws RangeError for sizes that are not integers, a maximum below 1, or `minThreads > maxThreads`.
   */
  adjustPoolsize(
    minThreads: number = this.#minThreads,
    maxThreads: number = this.#maxThreads,
  ): void {
    checkInteger(minThreads, 'minThreads', 0);
    checkInteger(maxThreads, 'maxThreads', 1);
    if (minThreads > maxThreads) {
      throw new RangeError(
        `minThreads (${minThreads}) must not be more than maxThreads (${maxThreads})`,
      );
    }
    if (minThreads === this.#minThreads && maxThreads === this.#maxThreads) return;
    this.#minThreads = minThreads;
    this.#maxThreads = maxThreads;
    // piscina's sizes are fixed at construction: new tasks go to a new pool of
    // the new size; the old one is destroyed once its running tasks are done.
    const old = this.#workers;
    this.#workers = null;
    if (old !== null) {
      this.#retire(old);
      // A started pool keeps its minimum of idle workers across the resize.
      if (this.#stopping === null && minThreads > 0) this.#pool();
    }
    this.#dispatch();
  }

  /**
   * Sets the most tasks running at once, as Twisted's `reactor.suggestThreadPoolSize`
   * (which sets the maximum only). A minimum above `size` is lowered to it.
   * @throws RangeError as {@link ThreadPool.adjustPoolsize}.
   */
  suggestThreadPoolSize(size: number): void {
    checkInteger(size, 'size', 1);
    this.adjustPoolsize(Math.min(this.#minThreads, size), size);
  }

  /**
   * Stops the pool: queued tasks fail with `ThreadPoolStoppedError` at once,
   * running tasks are terminated (their Deferreds fail the same way), and
   * later tasks fail at once. Results not yet delivered are delivered now,
   * without waiting for the reactor. Safe to call more than once.
   * @returns a Deferred that fires once every worker has exited.
   */
  stop(): Deferred<void> {
    if (this.#stopping === null) {
      this.#stopping = this.#stop();
    }
    return Deferred.fromPromise(this.#stopping);
  }

  async #stop(): Promise<void> {
    this.#removeShutdownTrigger();
    // From here on nothing waits for the reactor, which may be shutting down.
    this.#calls.close();
    const queued = this.#queue.splice(0);
    for (const task of queued) {
      task.state = 'done';
      task.port.close();
      task.remote.close();
      this.#settle(
        task,
        new Failure(
          new ThreadPoolStoppedError(
            `${task.exportName} from ${task.module} did not run: the thread pool was stopped`,
          ),
        ),
      );
    }
    const pools = [...this.#retired.keys()];
    if (this.#workers !== null) pools.push(this.#workers);
    this.#workers = null;
    this.#retired.clear();
    // Running tasks fail as their workers are terminated (see #launch).
    await Promise.all(
      pools.map((pool) =>
        pool.destroy().catch((err: unknown) => {
          log.failure('A worker pool failed to shut down cleanly', err);
        }),
      ),
    );
  }

  // ---------------------------------------------------------------- internals

  /** At the first task: find the reactor and stop with it. */
  #start(): void {
    if (this.#reactor !== null && this.#shutdownTrigger !== null) return;
    const reactor = this.reactor;
    this.#shutdownTrigger ??= reactor.addSystemEventTrigger('during', 'shutdown', () => {
      // The trigger is running: there is nothing to remove any more.
      this.#shutdownTrigger = null;
      return this.stop();
    });
  }

  #removeShutdownTrigger(): void {
    const id = this.#shutdownTrigger;
    if (id === null) return;
    this.#shutdownTrigger = null;
    try {
      this.reactor.removeSystemEventTrigger(id);
    } catch {
      // The reactor already ran or dropped it: nothing is left to remove.
    }
  }

  #pool(): Piscina {
    if (this.#workers === null) {
      const pool = new Piscina({
        filename: RUNNER.href,
        minThreads: this.#minThreads,
        maxThreads: this.#maxThreads,
        idleTimeout: this.#idleTimeoutMs,
        // A worker that finished a task runs its event loop normally (piscina's
        // default blocks it in Atomics.wait), so timers a task left behind still fire.
        atomics: 'disabled',
        recordTiming: false,
      });
      // A worker that dies outside any task (an uncaught error in a timer)
      // is reported here; piscina would otherwise throw it from an 'error' event.
      pool.on('error', (err: unknown) => {
        log.failure('A worker thread failed outside any task', err);
      });
      this.#workers = pool;
    }
    return this.#workers;
  }

  #retire(pool: Piscina): void {
    let count = 0;
    for (const task of this.#running) if (task.workers === pool) count += 1;
    if (count === 0) {
      this.#destroyRetired(pool);
    } else {
      this.#retired.set(pool, count);
    }
  }

  #destroyRetired(pool: Piscina): void {
    this.#retired.delete(pool);
    pool.destroy().catch((err: unknown) => {
      log.failure('A resized-away worker pool failed to shut down cleanly', err);
    });
  }

  #dispatch(): void {
    while (this.#stopping === null && this.#running.size < this.#maxThreads) {
      const task = this.#queue.shift();
      if (task === undefined) return;
      this.#launch(task);
    }
  }

  #launch(task: Task): void {
    const workers = this.#pool();
    const abort = new AbortController();
    task.state = 'running';
    task.abort = abort;
    task.workers = workers;
    this.#running.add(task);
    task.port.on('message', (message: WorkerMessage) => {
      this.#received(task, message);
    });
    const message: TaskMessage = {
      module: task.module,
      exportName: task.exportName,
      port: task.remote,
    };
    workers.run(message, { transferList: [task.remote], signal: abort.signal }).then(
      () => {
        this.#finished(task, workers, null);
      },
      (err: unknown) => {
        this.#finished(task, workers, err);
      },
    );
  }

  #received(task: Task, message: WorkerMessage): void {
    switch (message.kind) {
      case 'call':
        this.#calls.call(message.module, message.exportName, [...message.args]);
        return;
      case 'result':
        task.port.close();
        this.#settle(task, message.value);
        return;
      case 'error':
        task.port.close();
        this.#settle(task, new Failure(fromErrorRecord(message.error)));
        return;
    }
  }

  /** piscina is done with the task: free its thread and explain a failure that sent no answer. */
  #finished(task: Task, workers: Piscina, err: unknown): void {
    task.state = 'done';
    this.#running.delete(task);
    const left = this.#retired.get(workers);
    if (left !== undefined) {
      if (left <= 1) this.#destroyRetired(workers);
      else this.#retired.set(workers, left - 1);
    }
    if (err !== null && !task.settled) {
      // The runner always answers unless its worker died: a crash, a
      // process.exit() in the task, or the pool terminating it at stop().
      task.port.close();
      const why = err instanceof Error ? err.message : inspect(err);
      this.#settle(
        task,
        new Failure(
          this.#stopping === null
            ? new Error(
                `The worker thread running ${task.exportName} from ${task.module} exited before it finished: ${why}`,
                { cause: err },
              )
            : new ThreadPoolStoppedError(
                `${task.exportName} from ${task.module} was terminated: the thread pool was stopped`,
                { cause: err },
              ),
        ),
      );
    } else if (err === null && !task.settled) {
      // The answer is still on its way on the task's channel; if the channel
      // closes without one, say so rather than leave the Deferred hanging.
      task.port.once('close', () => {
        if (!task.settled) {
          this.#settle(
            task,
            new Failure(new Error(`${task.exportName} from ${task.module} sent no result`)),
          );
        }
      });
    }
    this.#dispatch();
  }

  #settle(task: Task, result: unknown): void {
    if (task.settled) return;
    task.settled = true;
    const d = task.deferred;
    this.#calls.fire(() => {
      if (d.called) return; // cancelled meanwhile
      if (result instanceof Failure) d.errback(result);
      else d.callback(result);
    });
  }

  #cancel(task: Task): void {
    if (task.settled) return;
    task.settled = true;
    if (task.state === 'queued') {
      const index = this.#queue.indexOf(task);
      if (index !== -1) this.#queue.splice(index, 1);
      task.state = 'done';
      task.port.close();
      task.remote.close();
    } else if (task.state === 'running') {
      task.port.close();
      task.abort?.abort(new CancelledError());
    }
    // Returning without firing lets the Deferred fail with CancelledError.
  }
}
