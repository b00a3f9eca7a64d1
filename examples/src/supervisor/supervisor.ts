/**
 * `Supervisor`: keeps one child process running. When the child ends it is
 * started again after a back-off delay that doubles with each quick crash
 * (1 s, 2 s, 4 s… up to 30 s) and starts over once a child has stayed up for
 * a while (10 s), so a crash loop costs little and a rare crash restarts at
 * once. `stop()` stops restarting, asks the child to end (SIGTERM), kills it
 * if it has not ended after a grace period, and fires once it has ended.
 * It uses only the reactor's interfaces, so its tests run it in virtual time
 * on SimulatedReactor with scripted children.
 *
 * Tests: examples/test/supervisor.test.ts
 */
import { Deferred, Logger, ProcessProtocol } from '@torsion/core';
import type {
  Failure,
  IDelayedCall,
  IProcessTransport,
  IReactorProcess,
  IReactorTime,
} from '@torsion/core';

const log = new Logger('supervisor');

/** The back-off and shutdown settings, in seconds. */
export interface SupervisorOptions {
  /** The first restart's delay. Default 1. */
  initialDelay?: number;
  /** Each quick crash multiplies the delay by this. Default 2. */
  factor?: number;
  /** The longest delay. Default 30. */
  maxDelay?: number;
  /** A child that ran this long resets the delay. Default 10. */
  resetAfter?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 5. */
  stopGrace?: number;
}

/** Relays the child's output to the log and tells the supervisor when it ended. */
class ChildProtocol extends ProcessProtocol {
  constructor(readonly supervisor: Supervisor) {
    super();
  }

  override outReceived(data: Buffer): void {
    log.info(`child: ${data.toString('utf8').trimEnd()}`);
  }

  override errReceived(data: Buffer): void {
    log.warn(`child (stderr): ${data.toString('utf8').trimEnd()}`);
  }

  override processEnded(reason: Failure): void {
    this.supervisor.childEnded(reason);
  }
}

/** Keeps `executable args` running on `reactor`, restarting it with back-off. */
export class Supervisor {
  /** When each child was started (reactor seconds), for logs and tests. */
  readonly startTimes: number[] = [];
  readonly #settings: Required<SupervisorOptions>;
  #child: IProcessTransport | null = null;
  #startedAt = 0;
  #delay: number;
  #restart: IDelayedCall | null = null;
  #kill: IDelayedCall | null = null;
  #stopping: Deferred<void> | null = null;

  constructor(
    readonly reactor: IReactorProcess & IReactorTime,
    readonly executable: string,
    readonly args: readonly string[],
    options: SupervisorOptions = {},
  ) {
    this.#settings = {
      initialDelay: options.initialDelay ?? 1,
      factor: options.factor ?? 2,
      maxDelay: options.maxDelay ?? 30,
      resetAfter: options.resetAfter ?? 10,
      stopGrace: options.stopGrace ?? 5,
    };
    this.#delay = this.#settings.initialDelay;
  }

  /** The running child, or null between restarts. */
  get child(): IProcessTransport | null {
    return this.#child;
  }

  /** Starts the first child. */
  start(): void {
    this.#spawn();
  }

  /** Stops restarting and ends the child; fires once it has ended. */
  stop(): Deferred<void> {
    if (this.#stopping !== null) return this.#stopping;
    const stopping = new Deferred<void>();
    this.#stopping = stopping;
    this.#restart?.cancel();
    this.#restart = null;
    const child = this.#child;
    if (child === null) {
      stopping.callback(undefined);
      return stopping;
    }
    log.info(`stopping child ${String(child.pid)}`);
    child.signalProcess('TERM');
    this.#kill = this.reactor.callLater(this.#settings.stopGrace, () => {
      this.#kill = null;
      if (child.pid !== null) child.signalProcess('KILL');
    });
    return stopping;
  }

  /** Called by the child's protocol once it has ended. */
  childEnded(reason: Failure): void {
    this.#child = null;
    const ran = this.reactor.seconds() - this.#startedAt;
    if (this.#stopping !== null) {
      this.#kill?.cancel();
      this.#kill = null;
      log.info(`child ended: ${reason.getErrorMessage()}`);
      this.#stopping.callback(undefined);
      return;
    }
    if (ran >= this.#settings.resetAfter) this.#delay = this.#settings.initialDelay;
    const delay = this.#delay;
    this.#delay = Math.min(delay * this.#settings.factor, this.#settings.maxDelay);
    log.warn(
      `child ended after ${ran.toFixed(2)} s (${reason.getErrorMessage()}); restarting in ${String(delay)} s`,
    );
    this.#restart = this.reactor.callLater(delay, () => {
      this.#restart = null;
      this.#spawn();
    });
  }

  #spawn(): void {
    this.#startedAt = this.reactor.seconds();
    this.startTimes.push(this.#startedAt);
    const child = this.reactor.spawnProcess(new ChildProtocol(this), this.executable, this.args);
    this.#child = child;
    log.info(`started ${this.executable} (pid ${String(child.pid)})`);
  }
}
