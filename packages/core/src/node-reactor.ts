/**
 * `NodeReactor`: the reactor on top of Node's event loop. It owns the clock
 * (one Node timer re-armed for the earliest `callLater`), the startup and
 * shutdown sequence with its system event triggers, and every TCP port,
 * connection attempt and connection it opened, so that `stop()` can close
 * them all.
 *
 * Tests: test/node-reactor.test.ts, test/tcp*.integration.test.ts
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { DelayedCall } from './delayed-call.js';
import { ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning } from './errors.js';
import type {
  ConnectTCPOptions,
  IClientFactory,
  IConnector,
  IDelayedCall,
  IListeningPort,
  IProtocolFactory,
  IReactor,
  ListenTCPOptions,
  SystemEventPhase,
  SystemEventTriggerId,
  SystemEventType,
} from './interfaces.js';
import { callSafely, THREW } from './internal/call-safely.js';
import { Registry } from './internal/registry.js';
import { TCPConnector } from './internal/tcp-connector.js';
import { TCPPort } from './internal/tcp-port.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from './internal/tcp-transport.js';
import { TimerQueue } from './internal/timer-queue.js';
import { describeType } from './internal/write-data.js';
import { Logger } from './log.js';

const log = new Logger('torsion.reactor');

/** The arguments of every `callLater` made without any; never mutated. */
const NO_ARGUMENTS = Object.freeze([]) as unknown as unknown[];
/** Node cannot arm a timer further than 2^31-1 ms ahead; a longer wait re-arms on expiry. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const PHASES: readonly SystemEventPhase[] = ['before', 'during', 'after'];
const EVENTS: readonly SystemEventType[] = ['startup', 'shutdown'];
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Options for {@link NodeReactor}. */
export interface NodeReactorOptions {
  /**
   * Stop the reactor on SIGINT and SIGTERM while it runs. Default `true`.
   * The handlers are removed when shutdown ends, restoring Node's default
   * (exit) behaviour.
   */
  installSignalHandlers?: boolean;
  /**
   * Seconds shutdown waits for connections to close cleanly after
   * `loseConnection()` before aborting them. Default 5.
   */
  shutdownGracePeriod?: number;
  /**
   * Write high-water mark of every TCP transport, in bytes. Default 64 KiB.
   * Each transport's `writeHighWaterMark` can also be changed later.
   */
  writeHighWaterMark?: number;
}

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

type Lifecycle = 'idle' | 'started' | 'stopped';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function checkPort(port: unknown, min: number): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(
      `port must be an integer from ${String(min)} to 65535, got ${typeof port === 'number' ? String(port) : describeType(port)}`,
    );
  }
}

function checkSeconds(value: unknown, what: string, allowZero: boolean): asserts value is number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new RangeError(
      `${what} must be a number of seconds ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`,
    );
  }
}

/**
 * The standard reactor: Node's event loop seen through Twisted's IReactor.
 *
 * @example
 * ```ts
 * const reactor = new NodeReactor();
 * reactor.listenTCP(8000, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
 * await reactor.run(); // until SIGINT/SIGTERM or reactor.stop()
 * ```
 *
 * @remarks
 * Node's loop always runs, so `callLater`, `listenTCP` and `connectTCP` work
 * before `run()` too; `run()` adds the lifecycle (startup triggers,
 * `callWhenRunning`, and an orderly shutdown). Once stopped, the reactor runs
 * nothing more: pending delayed calls are dropped (so the process can exit)
 * and `listenTCP`/`connectTCP` throw ReactorNotRestartable.
 */
export class NodeReactor implements IReactor {
  readonly #timers: TimerQueue;
  readonly #registry: Registry;
  readonly #installSignalHandlers: boolean;
  readonly #gracePeriod: number;
  #nodeTimer: NodeJS.Timeout | null = null;
  /** The deadline (reactor seconds) the Node timer is armed for. */
  #armedFor = Infinity;
  #lifecycle: Lifecycle = 'idle';
  #running = false;
  #stopRequested = false;
  #requestStop: (() => void) | null = null;
  readonly #triggers = new Map<SystemEventTriggerId, Trigger>();
  readonly #signalHandler = (signal: NodeJS.Signals): void => {
    if (this.#lifecycle === 'started' && !this.#stopRequested) {
      log.info(`Received ${signal}, shutting down`, { signal });
      this.stop();
    } else {
      log.info(`Received ${signal} while already shutting down`, { signal });
    }
  };

  /**
   * @param options - see {@link NodeReactorOptions}.
   * @throws RangeError for an invalid option value.
   */
  constructor(options: NodeReactorOptions = {}) {
    const grace = options.shutdownGracePeriod ?? 5;
    checkSeconds(grace, 'shutdownGracePeriod', true);
    const hwm = options.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK;
    if (!Number.isSafeInteger(hwm) || hwm < 0) {
      throw new RangeError(`writeHighWaterMark must be an integer >= 0, got ${String(hwm)}`);
    }
    this.#gracePeriod = grace;
    this.#installSignalHandlers = options.installSignalHandlers ?? true;
    this.#registry = new Registry(hwm);
    this.#timers = new TimerQueue(() => this.seconds());
    this.#timers.onEarliestChanged = () => {
      this.#arm();
    };
  }

  // ---------------------------------------------------------------- time

  /** Monotonic seconds (`performance.now() / 1000`); not the Unix epoch. */
  seconds(): number {
    return performance.now() / 1000;
  }

  /**
   * Runs `fn(...args)` after `delaySeconds`. A pending call keeps the process
   * alive, as `setTimeout` does. Exceptions are logged ('torsion.reactor').
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

  /** Re-arms the single Node timer for the earliest deadline. */
  #arm(): void {
    const next = this.#lifecycle === 'stopped' ? undefined : this.#timers.nextTime();
    if (next === this.#armedFor) return;
    if (this.#nodeTimer !== null) {
      clearTimeout(this.#nodeTimer);
      this.#nodeTimer = null;
    }
    if (next === undefined) {
      this.#armedFor = Infinity;
      return;
    }
    this.#armedFor = next;
    // Rounded up: Node's millisecond clock may fire a hair early, and an early
    // wake-up runs nothing and re-arms.
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((next - this.seconds()) * 1000)));
    this.#nodeTimer = setTimeout(this.#onTimer, ms);
  }

  readonly #onTimer = (): void => {
    this.#nodeTimer = null;
    this.#armedFor = Infinity;
    if (this.#lifecycle === 'stopped') return;
    this.#timers.runDue(this.#onCallError);
    this.#arm();
  };

  readonly #onCallError = (error: unknown, call: DelayedCall): void => {
    log.failure('Unhandled error in a delayed call', error, { call: call.toString() });
  };

  // ---------------------------------------------------------------- lifecycle

  /** True from the `during startup` phase until shutdown has finished. */
  get running(): boolean {
    return this.#running;
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
    this.#addTrigger('after', 'startup', fn as (...a: unknown[]) => unknown, args, false);
  }

  /**
   * Adds a trigger around startup or shutdown. Each phase waits for the
   * Deferreds and promises its triggers return before the next phase begins;
   * a trigger that throws or fails is logged and the sequence continues.
   * @returns an id for {@link NodeReactor.removeSystemEventTrigger}.
   * @throws TypeError for an unknown phase or event, or if `fn` is not a function.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    fn: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerId {
    // Checked at run time too: JavaScript callers get no compile-time check.
    if (!PHASES.includes(phase)) {
      throw new TypeError(`phase must be 'before', 'during' or 'after', got ${phase}`);
    }
    if (!EVENTS.includes(eventType)) {
      throw new TypeError(`eventType must be 'startup' or 'shutdown', got ${eventType}`);
    }
    if (typeof fn !== 'function') {
      throw new TypeError(`addSystemEventTrigger() needs a function, got ${describeType(fn)}`);
    }
    return this.#addTrigger(phase, eventType, fn as (...a: unknown[]) => unknown, args, true);
  }

  /**
   * Removes a trigger; if its phase is firing and it has not run yet, it will not run.
   * @throws Error if `id` names no trigger (never added, or already removed).
   */
  removeSystemEventTrigger(id: SystemEventTriggerId): void {
    const trigger = this.#triggers.get(id);
    if (trigger === undefined) {
      throw new Error(`No system event trigger with id ${String(id.description)}`);
    }
    trigger.removed = true;
    this.#triggers.delete(id);
  }

  #addTrigger(
    phase: SystemEventPhase,
    event: SystemEventType,
    fn: (...args: unknown[]) => unknown,
    args: unknown[],
    awaited: boolean,
  ): SystemEventTriggerId {
    const id = Symbol(`${phase} ${event}: ${fn.name === '' ? 'anonymous' : fn.name}`);
    this.#triggers.set(id, { id, event, phase, fn, args, awaited, removed: false });
    return id;
  }

  async #live(stopRequested: Promise<void>): Promise<void> {
    try {
      await this.#fireEvent('startup', () => {
        this.#running = true;
        return undefined;
      });
      await stopRequested;
      await this.#fireEvent('shutdown', () => this.#disconnectAll());
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
    this.#registry.closed = true;
    if (this.#installSignalHandlers) {
      for (const signal of SIGNALS) process.removeListener(signal, this.#signalHandler);
    }
    // A stopped reactor runs nothing more; dropping the Node timer lets the process exit.
    this.#arm();
    const leftovers = this.#registry.transports.size + this.#registry.ports.size;
    if (leftovers > 0) {
      log.warn('Reactor stopped with resources still open', { open: leftovers });
    }
    log.info('Reactor stopped');
  }

  /**
   * Fires the three phases of `event`. `builtin` is the reactor's own
   * `during` work; it runs before the user's `during` triggers.
   */
  async #fireEvent(
    event: SystemEventType,
    builtin: () => Promise<void> | undefined,
  ): Promise<void> {
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
          log,
          `Unhandled error in ${what}`,
          {},
          trigger.fn,
          ...trigger.args,
        );
        if (result === THREW || !isThenable(result)) continue;
        const settled = Promise.resolve(result).then(undefined, (err: unknown) => {
          log.failure(`Unhandled error in ${what}`, err);
        });
        if (trigger.awaited) waits.push(settled);
      }
      if (waits.length > 0) await Promise.all(waits);
    }
  }

  /**
   * The built-in `during shutdown` work: close every port, cancel every
   * connection attempt, `loseConnection()` every connection, and abort those
   * still open after the grace period.
   */
  #disconnectAll(): Promise<void> | undefined {
    const registry = this.#registry;
    if (registry.empty) return undefined;
    for (const port of [...registry.ports]) port.stopListening();
    for (const connector of [...registry.connectors]) {
      if (connector.state === 'connecting') connector.stopConnecting();
    }
    for (const transport of [...registry.transports]) transport.loseConnection();
    return new Promise<void>((resolve) => {
      let finalWait: IDelayedCall | null = null;
      const grace = this.callLater(this.#gracePeriod, () => {
        log.warn('Connections still open after the shutdown grace period; aborting them', {
          open: registry.transports.size,
          gracePeriod: this.#gracePeriod,
        });
        for (const connector of [...registry.connectors]) {
          if (connector.state === 'connecting') connector.stopConnecting();
        }
        for (const transport of [...registry.transports]) transport.abortConnection();
        // Aborted sockets close within a turn or two of the loop; do not wait forever for stragglers.
        finalWait = this.callLater(this.#gracePeriod, () => {
          registry.cancelWhenEmpty();
          resolve();
        });
      });
      registry.whenEmpty(() => {
        if (grace.active()) grace.cancel();
        if (finalWait?.active() === true) finalWait.cancel();
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------- TCP

  /**
   * Listens on `port` (0 for any free port). Returns at once; binding is
   * asynchronous, see {@link IListeningPort.whenListening}.
   * @param options - `backlog` (default 50) and `interface` (default `''`:
   *   Node's default, all interfaces, IPv6 and IPv4 where dual-stack).
   * @throws RangeError for a port outside 0..65535 or a bad backlog.
   * @throws TypeError if `factory` has no `buildProtocol` or the interface is not a string.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): IListeningPort {
    checkPort(port, 0);
    checkFactory(factory);
    const backlog = options.backlog ?? 50;
    if (!Number.isSafeInteger(backlog) || backlog < 0) {
      throw new RangeError(`backlog must be an integer >= 0, got ${String(backlog)}`);
    }
    const iface = options.interface ?? '';
    if (typeof iface !== 'string') {
      throw new TypeError(`interface must be a string, got ${describeType(iface)}`);
    }
    this.#checkOpen();
    const listening = new TCPPort(this.#registry, port, factory, backlog, iface);
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port`; the factory hears `startedConnecting`, then
   * `clientConnectionFailed` or (after the connection ends) `clientConnectionLost`.
   * @param options - `timeout` in seconds (default 30; `Infinity` for none) and `bindAddress`.
   * @throws RangeError for a port outside 1..65535 or a bad timeout.
   * @throws TypeError if `host` is not a non-empty string or `factory` is not a client factory.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions = {},
  ): IConnector {
    if (typeof host !== 'string' || host === '') {
      throw new TypeError(`host must be a non-empty string, got ${describeType(host)}`);
    }
    checkPort(port, 1);
    checkFactory(factory);
    const timeout = options.timeout ?? 30;
    checkSeconds(timeout, 'timeout', false);
    this.#checkOpen();
    const settings =
      options.bindAddress === undefined
        ? { host, port, timeout }
        : { host, port, timeout, bindAddress: options.bindAddress };
    const connector = new TCPConnector(this.#registry, this, factory, settings);
    connector.connect();
    return connector;
  }

  #checkOpen(): void {
    if (this.#lifecycle === 'stopped') {
      throw new ReactorNotRestartable(
        'The reactor has stopped; it cannot open ports or connections',
      );
    }
  }
}

function checkFactory(factory: unknown): void {
  if (
    typeof factory !== 'object' ||
    factory === null ||
    typeof (factory as { buildProtocol?: unknown }).buildProtocol !== 'function'
  ) {
    throw new TypeError(`factory must have a buildProtocol() method, got ${describeType(factory)}`);
  }
}

function describeFn(fn: (...args: never[]) => unknown): string {
  return fn.name === '' ? '(anonymous)' : fn.name;
}
