/**
 * `ReactorBase`: what every reactor shares whatever its I/O — the delayed
 * calls, the startup and shutdown sequence (its system event triggers are
 * system-event-triggers.ts), the SIGINT/SIGTERM handling, the orderly close of everything still open at
 * shutdown, and the argument checks of `listenTCP`/`connectTCP`. A reactor
 * (Node's, Bun's, the simulated one, or a third party's) extends it and adds
 * its clock and its TCP, as Twisted's reactors extend `ReactorBase`.
 *
 * Tests: test/reactor-kit/reactor-base.test.ts, test/node-reactor.test.ts, and the
 * conformance suite in @torsion/reactor-conformance run against every reactor
 * @module
 */
import type { DelayedCall } from '../delayed-call.js';
import { ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning } from '../errors.js';
import type {
  ConnectTCPOptions,
  IDelayedCall,
  IReactorCore,
  IReactorTime,
  ListenTCPOptions,
  SystemEventPhase,
  SystemEventTriggerId,
  SystemEventType,
} from '../interfaces.js';
import { TimerQueue } from '../internal/timer-queue.js';
import { describeType } from '../describe-type.js';
import { Logger } from '../log.js';
import { OpenResources } from './open-resources.js';
import { SystemEventTriggers } from './system-event-triggers.js';
import {
  checkConnectTCP,
  checkSeconds,
  checkListenTCP,
  type CheckedConnectTCPOptions,
  type CheckedListenTCPOptions,
} from './argument-checks.js';

const log = new Logger('torsion.reactor');

/** The arguments of every `callLater` made without any; never mutated. */
const NO_ARGUMENTS = Object.freeze([]) as unknown as unknown[];
/** Node and Bun cannot arm a timer further than 2^31-1 ms ahead; a longer wait re-arms on expiry. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Options every reactor built on {@link ReactorBase} accepts. */
export interface ReactorBaseOptions {
  /**
   * Stop the reactor on SIGINT and SIGTERM while it runs. Default `true`.
   * The handlers are removed when shutdown ends, restoring the runtime's
   * default (exit) behaviour.
   */
  installSignalHandlers?: boolean;
  /**
   * Seconds shutdown waits for connections to close cleanly after
   * `loseConnection()` before aborting them. Default 5.
   */
  shutdownGracePeriod?: number;
}

type Lifecycle = 'idle' | 'started' | 'stopped';

/**
 * The base of every reactor: time, lifecycle and shutdown. Subclasses supply
 * {@link ReactorBase.seconds} and their TCP (`listenTCP`, `connectTCP`),
 * registering what they open in {@link ReactorBase.openResources} so that
 * shutdown closes it.
 *
 * @remarks
 * Delayed calls live in one heap; a single runtime timer (`setTimeout`, which
 * Node and Bun both have) is armed for the earliest. A reactor with virtual
 * time overrides {@link ReactorBase.armTimer} and calls
 * {@link ReactorBase.runDueCalls} itself after moving its clock.
 *
 * Once stopped, a reactor runs nothing more: pending delayed calls are
 * dropped (so the process can exit) and {@link ReactorBase.checkOpen} throws
 * ReactorNotRestartable.
 */
export abstract class ReactorBase implements IReactorCore, IReactorTime {
  /**
   * What the reactor has open. Ports, connectors and transports add and
   * remove themselves; shutdown closes whatever is left.
   */
  protected readonly openResources: OpenResources;
  readonly #timers: TimerQueue;
  readonly #installSignalHandlers: boolean;
  readonly #gracePeriod: number;
  #runtimeTimer: ReturnType<typeof setTimeout> | null = null;
  /** The deadline (reactor seconds) the runtime timer is armed for. */
  #armedFor = Infinity;
  #lifecycle: Lifecycle = 'idle';
  #running = false;
  #stopRequested = false;
  #requestStop: (() => void) | null = null;
  readonly #triggers = new SystemEventTriggers(log);
  readonly #signalHandler = (signal: NodeJS.Signals): void => {
    if (this.#lifecycle === 'started' && !this.#stopRequested) {
      log.info(`Received ${signal}, shutting down`, { signal });
      this.stop();
    } else {
      log.info(`Received ${signal} while already shutting down`, { signal });
    }
  };

  /**
   * @param options - see {@link ReactorBaseOptions}.
   * @param openResources - the bookkeeping to use, when a subclass needs a
   *   richer one; a new {@link OpenResources} by default.
   * @throws RangeError for an invalid option value.
   */
  protected constructor(
    options: ReactorBaseOptions = {},
    openResources: OpenResources = new OpenResources(),
  ) {
    const grace = options.shutdownGracePeriod ?? 5;
    checkSeconds(grace, 'shutdownGracePeriod', true);
    this.#gracePeriod = grace;
    this.#installSignalHandlers = options.installSignalHandlers ?? true;
    this.openResources = openResources;
    this.#timers = new TimerQueue(
      () => this.seconds(),
      () => this.schedulingTime(),
    );
    this.#timers.onEarliestChanged = () => {
      this.#rearm();
    };
  }

  // ---------------------------------------------------------------- time

  /** The reactor's current time in seconds. Monotonic; not the Unix epoch. */
  abstract seconds(): number;

  /**
   * Runs `fn(...args)` after `delaySeconds`. Calls due at the same time run in
   * the order they were scheduled. Exceptions are logged ('torsion.reactor').
   * @throws RangeError if `delaySeconds` is negative or not finite.
   * @throws TypeError if `fn` is not a function.
   */
  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall;
  callLater(delaySeconds: number, fn: (...args: unknown[]) => unknown): IDelayedCall {
    // Most calls pass no arguments: share one empty array instead of letting a
    // rest parameter allocate one per call (a million pending calls, a
    // million garbage arrays).
    const args =
      arguments.length > 2
        ? // eslint-disable-next-line prefer-rest-params -- see above
          (Array.prototype.slice.call(arguments, 2) as unknown[])
        : NO_ARGUMENTS;
    return this.#timers.schedule(delaySeconds, fn, args);
  }

  /** Every pending delayed call. */
  getDelayedCalls(): IDelayedCall[] {
    return this.#timers.pending();
  }

  /**
   * The time `callLater` and `reset` count a delay from. The default is
   * {@link ReactorBase.seconds}; a reactor whose clock is costly to read may
   * return a value cached for the current turn of its event loop, as long as
   * it never runs ahead of `seconds()` and is refreshed whenever
   * {@link ReactorBase.runDueCalls} starts.
   */
  protected schedulingTime(): number {
    return this.seconds();
  }

  /**
   * Arranges for {@link ReactorBase.runDueCalls} to run at `nextTime`
   * (reactor seconds), or for nothing to run when it is `undefined`. Called
   * whenever the earliest deadline moved earlier or the queue emptied, and
   * after each run of due calls.
   *
   * The default arms one `setTimeout`. A reactor whose clock is virtual
   * overrides it (and then calls `runDueCalls()` after advancing its clock).
   */
  protected armTimer(nextTime: number | undefined): void {
    if (nextTime === this.#armedFor) return;
    if (this.#runtimeTimer !== null) {
      clearTimeout(this.#runtimeTimer);
      this.#runtimeTimer = null;
    }
    if (nextTime === undefined) {
      this.#armedFor = Infinity;
      return;
    }
    this.#armedFor = nextTime;
    // Rounded up: a millisecond clock may fire a hair early, and an early
    // wake-up runs nothing and re-arms.
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((nextTime - this.seconds()) * 1000)));
    this.#runtimeTimer = setTimeout(this.#onRuntimeTimer, ms);
  }

  /**
   * Runs every delayed call due at `seconds()`, then re-arms for the next.
   * Calls scheduled meanwhile wait for a later run. Does nothing once stopped.
   * @returns how many calls ran.
   */
  protected runDueCalls(): number {
    if (this.#lifecycle === 'stopped') return 0;
    const ran = this.#timers.runDue(this.#onCallError);
    this.#rearm();
    return ran;
  }

  /** When the earliest pending delayed call is due, or `undefined` if none is. */
  protected nextDelayedCallTime(): number | undefined {
    return this.#timers.nextTime();
  }

  #rearm(): void {
    this.armTimer(this.#lifecycle === 'stopped' ? undefined : this.#timers.nextTime());
  }

  readonly #onRuntimeTimer = (): void => {
    this.#runtimeTimer = null;
    this.#armedFor = Infinity;
    this.runDueCalls();
  };

  readonly #onCallError = (error: unknown, call: DelayedCall): void => {
    log.failure('Unhandled error in a delayed call', error, { call: call.toString() });
  };

  // ---------------------------------------------------------------- lifecycle

  /** True from the `during startup` phase until shutdown has finished. */
  get running(): boolean {
    return this.#running;
  }

  /** True once shutdown has finished: the reactor runs and opens nothing more. */
  protected get stopped(): boolean {
    return this.#lifecycle === 'stopped';
  }

  /**
   * Starts the reactor: `before`, `during` and `after` startup triggers (each
   * phase waits for Deferreds/promises its triggers return), with
   * `callWhenRunning` calls among the `after` triggers. Installs SIGINT and
   * SIGTERM handlers unless disabled.
   *
   * @returns a promise that resolves once `stop()` was called and shutdown
   *   has finished. It never rejects: errors in triggers are logged.
   * @throws ReactorAlreadyRunning if `run()` was already called and the reactor has not stopped.
   * @throws ReactorNotRestartable if the reactor has stopped.
   * @remarks Triggers without asynchronous results run before `run()` returns.
   */
  run(): Promise<void> {
    if (this.#lifecycle === 'started') throw new ReactorAlreadyRunning();
    if (this.#lifecycle === 'stopped') throw new ReactorNotRestartable();
    this.#lifecycle = 'started';
    const stopRequested = new Promise<void>((resolve) => {
      this.#requestStop = resolve;
    });
    if (this.#installSignalHandlers) {
      for (const signal of SIGNALS) process.on(signal, this.#signalHandler);
    }
    return this.#live(stopRequested);
  }

  /**
   * Begins shutdown: `before` triggers, then `during` (ports stop listening,
   * connection attempts are cancelled, connections are closed with
   * `loseConnection()` and, after the grace period, aborted), then `after`.
   * Called during startup, shutdown begins once startup has finished.
   * @throws ReactorNotRunning if the reactor was not started, or stop() was already called.
   */
  stop(): void {
    if (this.#lifecycle !== 'started' || this.#stopRequested) throw new ReactorNotRunning();
    this.#stopRequested = true;
    this.#requestStop?.();
  }

  /**
   * Runs `fn(...args)` once the reactor is running: during startup's `after`
   * phase, or soon (as `callLater(0)`) if it is already running. What it
   * returns is not waited for; a rejected promise is logged.
   */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    if (typeof fn !== 'function') {
      throw new TypeError(`callWhenRunning() needs a function, got ${describeType(fn)}`);
    }
    if (this.#running) {
      this.callLater(0, fn, ...args);
      return;
    }
    this.#triggers.add('after', 'startup', fn as (...a: unknown[]) => unknown, args, false);
  }

  /**
   * Adds a trigger around startup or shutdown. Each phase waits for the
   * Deferreds and promises its triggers return before the next phase begins;
   * a trigger that throws or fails is logged and the sequence continues.
   * @returns an id for {@link ReactorBase.removeSystemEventTrigger}.
   * @throws TypeError for an unknown phase or event, or if `fn` is not a function.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    fn: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerId {
    return this.#triggers.add(phase, eventType, fn as (...a: unknown[]) => unknown, args, true);
  }

  /**
   * Removes a trigger; if its phase is firing and it has not run yet, it will not run.
   * @throws Error if `id` names no trigger (never added, or already removed).
   */
  removeSystemEventTrigger(id: SystemEventTriggerId): void {
    this.#triggers.remove(id);
  }

  async #live(stopRequested: Promise<void>): Promise<void> {
    try {
      await this.#triggers.fire('startup', () => {
        this.#running = true;
        return undefined;
      });
      await stopRequested;
      await this.#triggers.fire('shutdown', () => this.#disconnectAll());
    } catch (err) {
      // Every user call is guarded; reaching here is a Torsion bug. Still stop cleanly.
      log.failure('Internal error in the reactor lifecycle', err, {}, 'critical');
    } finally {
      this.#finish();
    }
  }

  #finish(): void {
    this.#running = false;
    this.#lifecycle = 'stopped';
    this.openResources.closed = true;
    if (this.#installSignalHandlers) {
      for (const signal of SIGNALS) process.removeListener(signal, this.#signalHandler);
    }
    // A stopped reactor runs nothing more; dropping the runtime timer lets the process exit.
    this.#rearm();
    const leftovers = this.openResources.connectionCount + this.openResources.ports.size;
    if (leftovers > 0) {
      log.warn('Reactor stopped with resources still open', { open: leftovers });
    }
    log.info('Reactor stopped');
  }

  /**
   * The built-in `during shutdown` work: close every port, cancel every
   * connection attempt, `loseConnection()` every connection, and abort those
   * still open after the grace period.
   */
  #disconnectAll(): Promise<void> | undefined {
    const open = this.openResources;
    if (open.empty) return undefined;
    const cancelAttempts = (): void => {
      for (const connector of [...open.connectors]) {
        if (connector.state === 'connecting') connector.stopConnecting();
      }
    };
    for (const port of [...open.ports]) void port.stopListening();
    cancelAttempts();
    for (const transport of [...open.connections()]) transport.loseConnection();
    return new Promise<void>((resolve) => {
      let finalWait: IDelayedCall | null = null;
      const grace = this.callLater(this.#gracePeriod, () => {
        log.warn('Connections still open after the shutdown grace period; aborting them', {
          open: open.connectionCount,
          gracePeriod: this.#gracePeriod,
        });
        cancelAttempts();
        for (const transport of [...open.connections()]) transport.abortConnection();
        // Aborted connections close within a turn or two of the loop; do not wait forever for stragglers.
        finalWait = this.callLater(this.#gracePeriod, () => {
          open.cancelWhenEmpty();
          resolve();
        });
      });
      open.whenEmpty(() => {
        if (grace.active()) grace.cancel();
        if (finalWait?.active() === true) finalWait.cancel();
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------- for subclasses' TCP

  /**
   * Throws once the reactor has stopped; call it before opening a port or a connection.
   * @throws ReactorNotRestartable
   */
  protected checkOpen(): void {
    if (this.#lifecycle === 'stopped') {
      throw new ReactorNotRestartable(
        'The reactor has stopped; it cannot open ports or connections',
      );
    }
  }

  /**
   * The argument checks every `listenTCP` makes, so that all reactors reject
   * the same mistakes with the same errors.
   * @returns the options with their defaults: backlog 4096, interface `''`.
   * @throws RangeError for a port outside 0..65535 or a bad backlog.
   * @throws TypeError if `factory` has no `buildProtocol` or the interface is not a string.
   */
  protected checkListenTCP(
    port: number,
    factory: unknown,
    options: ListenTCPOptions,
  ): CheckedListenTCPOptions {
    return checkListenTCP(port, factory, options);
  }

  /**
   * The argument checks every `connectTCP` makes.
   * @returns the options with their defaults: timeout 30 seconds.
   * @throws RangeError for a port outside 1..65535 or a bad timeout.
   * @throws TypeError if `host` is not a non-empty string or `factory` is not a client factory.
   */
  protected checkConnectTCP(
    host: string,
    port: number,
    factory: unknown,
    options: ConnectTCPOptions,
  ): CheckedConnectTCPOptions {
    return checkConnectTCP(host, port, factory, options);
  }
}
