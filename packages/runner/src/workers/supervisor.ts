/**
 * The primary's side of `torsion --workers N`: forks N workers with
 * `node:cluster` (which shares each listening socket among them), restarts
 * the ones that crash as the {@link RestartPolicy} says, replaces them one
 * at a time on a rolling restart, and stops them all on shutdown.
 *
 * A worker counts as serving once it reports that every endpoint listens
 * (the `listening` message the worker entry sends after `runServices` has
 * bound them all): a rolling restart stops an old worker only after its
 * replacement has reached that point, so the shared sockets always have a
 * worker accepting and no client is refused.
 *
 * Tests: test/workers-supervisor.integration.test.ts, test/workers-rolling.integration.test.ts
 * @module
 */
import type { IDelayedCall, IReactorTime, Logger } from '@torsion/core';
import cluster, { type Worker } from 'node:cluster';
import type { RestartPolicy } from './restart-policy.js';

/** The message a worker sends the primary once all its endpoints listen. */
export const WORKER_LISTENING_MESSAGE = 'torsion:listening';
/** The message a worker sends once it has stopped serving, before it exits; the primary answers {@link WORKER_FAREWELL_MESSAGE}. */
export const WORKER_STOPPED_MESSAGE = 'torsion:stopped';
/**
 * The primary's answer to {@link WORKER_STOPPED_MESSAGE}. The channel keeps
 * order, so once a worker reads it, every connection the primary handed it
 * before learning that its ports had closed has arrived and been handed back
 * (`node:cluster` gives a connection that reaches a closed port to another
 * worker). A worker that exited without waiting would take those
 * connections with it: the primary would hold them open, unanswered.
 */
export const WORKER_FAREWELL_MESSAGE = 'torsion:farewell';
/**
 * The primary's request that a worker stop as on SIGTERM (drain, then exit).
 * A message rather than the signal itself: when the worker has had a signal
 * already — Ctrl-C reaches the whole process group, systemd's default
 * `KillMode=control-group` signals every process — a second one would make
 * it abort instead of draining; the worker ignores this request then, and
 * waits a moment for such a signal before acting on it (worker-main.ts).
 */
export const WORKER_STOP_MESSAGE = 'torsion:stop';
/** The primary's request that a worker abort what is left at once, as a second signal does. */
export const WORKER_ABORT_MESSAGE = 'torsion:abort';

/** What a {@link Supervisor} runs and how. */
export interface SupervisorOptions {
  /** How many workers to keep serving. */
  readonly count: number;
  /** The worker entry module's path (see worker-main.ts). */
  readonly exec: string;
  /** The worker's command line. */
  readonly args: readonly string[];
  /** Timers: the primary's reactor (or `Clock` in a test). */
  readonly time: IReactorTime;
  readonly policy: RestartPolicy;
  /** Seconds a worker told to stop has before it is killed (its own drain time plus a margin). */
  readonly stopDeadline: number;
  /** Seconds a new worker has to start listening before a rolling restart gives up on it. */
  readonly readyTimeout: number;
  readonly log: Logger;
}

/** The exit code of the primary: 0 after a requested stop, 1 when the workers died and could not be restarted. */
export type SupervisorResult = 0 | 1;

interface Tracked {
  readonly worker: Worker;
  listening: boolean;
  /** Set when the primary asked it to stop: its exit is no crash. */
  stopping: boolean;
  readonly exited: Promise<void>;
  markExited(): void;
  readonly ready: Promise<boolean>;
  markReady(ok: boolean): void;
}

function label(worker: Worker): string {
  return `worker ${worker.id} (pid ${worker.process.pid ?? '?'})`;
}

/** Sends a stop or abort request; a worker whose channel is gone gets SIGTERM instead. */
function tell(worker: Worker, message: string): void {
  if (worker.isDead()) return;
  if (worker.isConnected()) worker.send(message);
  else worker.process.kill('SIGTERM');
}

function describeExit(code: number | null, signal: string | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
}

/** Forks, watches, restarts and stops the workers of one primary. */
export class Supervisor {
  private readonly tracked = new Map<number, Tracked>();
  private readonly pendingRestarts = new Set<IDelayedCall>();
  private phase: 'starting' | 'serving' | 'stopping' = 'starting';
  private rolling = false;
  private rollAgain = false;
  private exitCode: SupervisorResult = 0;
  private finish: (code: SupervisorResult) => void = () => undefined;
  private readonly onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    this.workerExited(worker, code, signal);
  };

  constructor(private readonly options: SupervisorOptions) {}

  /** How many workers are alive (tests and the metrics of the primary). */
  get size(): number {
    return this.tracked.size;
  }

  /** Process ids of the workers alive now. */
  pids(): number[] {
    return [...this.tracked.values()].flatMap(({ worker }) =>
      worker.process.pid === undefined ? [] : [worker.process.pid],
    );
  }

  /**
   * Forks the workers and resolves once every one has stopped: with 0 after
   * {@link Supervisor.stop}, with 1 when a worker failed to start (the others
   * are stopped) or when a crash loop has left none.
   */
  run(): Promise<SupervisorResult> {
    const done = new Promise<SupervisorResult>((resolve) => {
      this.finish = resolve;
    });
    cluster.setupPrimary({ exec: this.options.exec, args: [...this.options.args] });
    cluster.on('exit', this.onExit);
    const starting = Array.from({ length: this.options.count }, () => this.fork());
    void Promise.all(starting.map(({ ready }) => ready)).then((results) => {
      if (this.phase === 'starting' && results.every(Boolean)) {
        this.phase = 'serving';
        this.options.log.info(`${this.options.count} workers serving`, {
          workers: this.pids(),
        });
      }
    });
    return done.finally(() => {
      cluster.off('exit', this.onExit);
    });
  }

  /**
   * Stops every worker (a stop request, then SIGKILL at the deadline) and
   * ends {@link Supervisor.run} with 0. Called again while they drain, it
   * asks each worker to abort what is left at once, as a second signal does
   * to a single `torsion` process.
   */
  stop(reason: string): void {
    if (this.phase === 'stopping') {
      this.options.log.info(`${reason} again: telling the workers to abort at once`);
      for (const { worker } of this.tracked.values()) {
        tell(worker, WORKER_ABORT_MESSAGE);
      }
      return;
    }
    this.phase = 'stopping';
    this.options.log.info(`${reason}: stopping ${this.tracked.size} workers`);
    for (const call of this.pendingRestarts) call.cancel();
    this.pendingRestarts.clear();
    for (const entry of this.tracked.values()) void this.stopWorker(entry);
    this.settle();
  }

  /**
   * Replaces the workers one at a time: forks a new one, waits until it
   * listens, then stops one old one and waits for it to exit. A request made
   * while one is under way runs once it ends. If a new worker exits or does
   * not listen within the timeout, the restart stops and the old workers
   * carry on.
   */
  async rollingRestart(): Promise<void> {
    if (this.phase !== 'serving') {
      this.options.log.warn('not restarting the workers: they are still starting or stopping');
      return;
    }
    if (this.rolling) {
      this.rollAgain = true;
      this.options.log.info('a rolling restart is under way; another will follow it');
      return;
    }
    this.rolling = true;
    try {
      do {
        this.rollAgain = false;
        const old = [...this.tracked.values()].filter((entry) => !entry.stopping);
        this.options.log.info(`rolling restart of ${old.length} workers`);
        for (const entry of old) {
          if (!this.serving()) return; // stopped meanwhile
          if (entry.stopping || !this.tracked.has(entry.worker.id)) continue;
          const replacement = this.fork();
          if (!(await this.readyWithin(replacement))) {
            this.options.log.error(
              `rolling restart stopped: ${label(replacement.worker)} did not start listening; the other workers carry on`,
            );
            if (this.tracked.has(replacement.worker.id)) await this.stopWorker(replacement);
            return;
          }
          await this.stopWorker(entry);
        }
        this.options.log.info('rolling restart done', { workers: this.pids() });
      } while (this.rollRequested());
    } finally {
      this.rolling = false;
    }
  }

  // Read through methods: the state changes while a rolling restart awaits.
  private serving(): boolean {
    return this.phase === 'serving';
  }

  private rollRequested(): boolean {
    return this.rollAgain;
  }

  private fork(): Tracked {
    const worker = cluster.fork();
    let markExited = (): void => undefined;
    let markReady: (ok: boolean) => void = () => undefined;
    const entry: Tracked = {
      worker,
      listening: false,
      stopping: false,
      exited: new Promise((resolve) => {
        markExited = resolve;
      }),
      markExited: () => {
        markExited();
      },
      ready: new Promise((resolve) => {
        markReady = resolve;
      }),
      markReady: (ok) => {
        markReady(ok);
      },
    };
    worker.on('message', (message: unknown) => {
      if (message === WORKER_STOPPED_MESSAGE) {
        if (worker.isConnected()) worker.send(WORKER_FAREWELL_MESSAGE);
      } else if (message === WORKER_LISTENING_MESSAGE && !entry.listening) {
        entry.listening = true;
        entry.markReady(true);
        this.options.log.info(`${label(worker)} listening`);
      }
    });
    // A failed fork (no such file, out of processes) arrives as 'error', then 'exit'.
    worker.on('error', (err: Error) => {
      this.options.log.error(`${label(worker)}: ${err.message}`);
    });
    this.tracked.set(worker.id, entry);
    return entry;
  }

  private async readyWithin(entry: Tracked): Promise<boolean> {
    let timer: IDelayedCall | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.options.time.callLater(this.options.readyTimeout, () => {
        resolve(false);
      });
    });
    try {
      return await Promise.race([entry.ready, timedOut]);
    } finally {
      if (timer?.active() === true) timer.cancel();
    }
  }

  /** Asks it to stop, and SIGKILLs it if it has not exited by the deadline; resolves once it has exited. */
  private async stopWorker(entry: Tracked): Promise<void> {
    if (!entry.stopping) {
      entry.stopping = true;
      const { worker } = entry;
      tell(worker, WORKER_STOP_MESSAGE);
      const kill = this.options.time.callLater(this.options.stopDeadline, () => {
        if (!worker.isDead()) {
          this.options.log.warn(
            `${label(worker)} still running ${this.options.stopDeadline} s after being told to stop; killing it`,
          );
          worker.process.kill('SIGKILL');
        }
      });
      void entry.exited.then(() => {
        if (kill.active()) kill.cancel();
      });
    }
    await entry.exited;
  }

  private workerExited(worker: Worker, code: number | null, signal: string | null): void {
    const entry = this.tracked.get(worker.id);
    if (entry === undefined) return;
    this.tracked.delete(worker.id);
    entry.markReady(false);
    entry.markExited();
    const how = describeExit(code, signal);
    if (entry.stopping || this.phase === 'stopping') {
      this.options.log.info(`${label(worker)} stopped (${how})`);
    } else if (this.phase === 'starting' && !entry.listening) {
      // A worker that cannot start (its port is taken, say) will not start on a retry either.
      this.options.log.error(`${label(worker)} failed to start (${how}); stopping`);
      this.exitCode = 1;
      this.stop('a worker failed to start');
    } else {
      this.crashed(worker, how);
    }
    this.settle();
  }

  private crashed(worker: Worker, how: string): void {
    const decision = this.options.policy.crashed();
    const { limit, windowSeconds } = this.options.policy.options;
    if (decision.restart) {
      this.options.log.error(
        `${label(worker)} crashed (${how}); restarting it in ${decision.delay} s (${decision.recentCrashes} crashes in the last ${windowSeconds} s)`,
        { crashes: decision.recentCrashes },
      );
      const call = this.options.time.callLater(decision.delay, () => {
        this.pendingRestarts.delete(call);
        if (this.phase !== 'stopping') this.fork();
      });
      this.pendingRestarts.add(call);
    } else {
      this.options.log.critical(
        `${label(worker)} crashed (${how}); crash loop: ${decision.recentCrashes} crashes within ${windowSeconds} s (--restart-limit ${limit}), no more restarts; ${this.tracked.size} workers left`,
        { crashes: decision.recentCrashes },
      );
    }
  }

  /** Ends {@link Supervisor.run} once no worker is alive and none is due to be restarted. */
  private settle(): void {
    if (this.tracked.size > 0 || this.pendingRestarts.size > 0) return;
    if (this.phase !== 'stopping') {
      this.options.log.critical('no worker left to serve; exiting');
      this.exitCode = 1;
    }
    this.finish(this.exitCode);
  }
}
