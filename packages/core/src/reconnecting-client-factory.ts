/**
 * `ReconnectingClientFactory`: a client factory that reconnects after a
 * failed attempt or a lost connection, waiting longer each time (exponential
 * backoff with jitter), as Twisted's factory of the same name.
 *
 * Tests: test/reconnecting-client-factory.test.ts
 * @module
 */
import { getReactor } from './default-reactor.js';
import { ReactorNotRestartable } from './errors.js';
import { ClientFactory } from './factory.js';
import type { Failure } from './failure.js';
import type {
  IConnector,
  IDelayedCall,
  IReactorCore,
  IReactorTime,
  SystemEventTriggerId,
} from './interfaces.js';
import { Logger } from './log.js';

const log = new Logger('torsion.reconnect');

/** A delay for the log: milliseconds are plenty, and 2.718281828459045 is noise. */
function secondsText(seconds: number): string {
  return String(Math.round(seconds * 1000) / 1000);
}

/** Whether a connector's reactor also has a lifecycle whose shutdown the factory can hear of. */
function hasLifecycle(reactor: IReactorTime): reactor is IReactorTime & IReactorCore {
  const r = reactor as Partial<IReactorCore>;
  return (
    typeof r.addSystemEventTrigger === 'function' &&
    typeof r.removeSystemEventTrigger === 'function'
  );
}

function retriesText(retries: number): string {
  return retries === 1 ? '1 retry' : `${String(retries)} retries`;
}

/** Settings for {@link ReconnectingClientFactory}; each defaults to the property's default. */
export interface ReconnectingClientFactoryOptions {
  initialDelay?: number;
  maxDelay?: number;
  factor?: number;
  jitter?: number;
  maxRetries?: number | null;
  clock?: IReactorTime | null;
  random?: () => number;
}

/**
 * Reconnects on `clientConnectionFailed` and `clientConnectionLost`.
 *
 * Each retry multiplies {@link ReconnectingClientFactory.delay} by
 * {@link ReconnectingClientFactory.factor}, caps it at
 * {@link ReconnectingClientFactory.maxDelay}, then draws the actual wait from
 * a normal distribution around it (standard deviation `delay * jitter`), so
 * many clients that lost the same server do not all come back at once. With
 * the defaults the first retry waits about e ≈ 2.72 seconds, not
 * `initialDelay`: the delay grows before it is used, as in Twisted.
 *
 * @remarks
 * **Call {@link ReconnectingClientFactory.resetDelay} once a connection is
 * good** (in `buildProtocol`, or in the protocol's `connectionMade` after a
 * handshake succeeded); nothing resets it for you. Otherwise the delay keeps
 * the size it reached before the connection succeeded, and the next loss
 * waits that long. This is Twisted's rule, kept on purpose: resetting
 * automatically in `buildProtocol` would make a server that accepts and then
 * drops every connection get hammered at `initialDelay`.
 *
 * If your subclass overrides `clientConnectionFailed` or
 * `clientConnectionLost`, call `super` so the retry happens.
 *
 * @example
 * ```ts
 * class EchoClientFactory extends ReconnectingClientFactory {
 *   override buildProtocol(addr: IAddress) {
 *     this.resetDelay();
 *     return super.buildProtocol(addr);
 *   }
 * }
 * const factory = new EchoClientFactory();
 * factory.protocol = EchoClient;
 * reactor.connectTCP('127.0.0.1', 8000, factory);
 * ```
 */
export class ReconnectingClientFactory extends ClientFactory {
  /** Seconds: the delay a fresh (or reset) factory starts from. */
  initialDelay = 1.0;
  /** Seconds: the delay never grows beyond this (before jitter). */
  maxDelay = 3600;
  /** How much the delay grows on each retry. */
  factor = Math.E;
  /** Standard deviation of the wait, as a fraction of the delay. 0 disables jitter. */
  jitter = 0.119626565582;
  /** Give up after this many retries in a row; `null` retries forever. */
  maxRetries: number | null = null;
  /** False after {@link ReconnectingClientFactory.stopTrying}. */
  continueTrying = true;
  /** Retries since the last {@link ReconnectingClientFactory.resetDelay}. */
  retries = 0;
  /** The current delay, in seconds (grows with each retry). */
  delay = this.initialDelay;
  /**
   * Where retries are scheduled. `null` (the default) means the reactor the
   * connector being retried belongs to ({@link IConnector.reactor}), or the
   * default reactor for a connector that does not name one; tests may set a
   * `Clock`.
   */
  clock: IReactorTime | null = null;
  /** The source of randomness for the jitter, returning [0, 1). Replace it for deterministic tests. */
  random: () => number = Math.random;
  /** The connector of the last attempt; {@link ReconnectingClientFactory.retry} uses it by default. */
  connector: IConnector | null = null;
  #pendingRetry: IDelayedCall | null = null;
  /** The shutdown triggers that drop {@link ReconnectingClientFactory.pendingRetry}, and their reactor. */
  #shutdownHooks: { reactor: IReactorCore; ids: SystemEventTriggerId[] } | null = null;

  /**
   * @param options - overrides for the backoff settings, the clock and the
   *   random source; the starting delay is `initialDelay`.
   */
  constructor(options: ReconnectingClientFactoryOptions = {}) {
    super();
    if (options.initialDelay !== undefined) this.initialDelay = options.initialDelay;
    if (options.maxDelay !== undefined) this.maxDelay = options.maxDelay;
    if (options.factor !== undefined) this.factor = options.factor;
    if (options.jitter !== undefined) this.jitter = options.jitter;
    if (options.maxRetries !== undefined) this.maxRetries = options.maxRetries;
    if (options.clock !== undefined) this.clock = options.clock;
    if (options.random !== undefined) this.random = options.random;
    this.delay = this.initialDelay;
  }

  /** The scheduled retry, or `null` when none is pending. */
  get pendingRetry(): IDelayedCall | null {
    return this.#pendingRetry;
  }

  /** Retries, unless {@link ReconnectingClientFactory.stopTrying} was called. */
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void reason;
    if (this.continueTrying) {
      this.connector = connector;
      this.retry(connector);
    }
  }

  /** Retries, unless {@link ReconnectingClientFactory.stopTrying} was called. */
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    void reason;
    if (this.continueTrying) {
      this.connector = connector;
      this.retry(connector);
    }
  }

  /**
   * Schedules `connector.connect()` after the next backoff delay.
   *
   * @param connector - default: the last connector this factory saw.
   * @throws Error if there is no connector to retry.
   * @remarks Does nothing after `stopTrying()`; after `maxRetries` retries it
   * logs that it gives up. An error thrown by `connect()` (or by this
   * factory's `startedConnecting`) when the retry runs is logged and counts
   * as a failed attempt, so a retry is scheduled again.
   */
  retry(connector?: IConnector): void {
    if (!this.continueTrying) {
      if (this.noisy) log.info('Not reconnecting: stopTrying() was called');
      return;
    }
    const target = connector ?? this.connector;
    if (target === null)
      throw new Error('ReconnectingClientFactory.retry(): no connector to retry');
    if (this.maxRetries !== null && this.retries >= this.maxRetries) {
      // `retries` counts the retries made, so the message and the field agree.
      log.info(
        `Abandoning ${target.getDestination().toString()} after ${retriesText(this.retries)}`,
        { retries: this.retries },
      );
      return;
    }
    this.retries += 1;
    this.delay = Math.min(this.delay * this.factor, this.maxDelay);
    if (this.jitter !== 0) {
      this.delay = Math.max(0, this.#normalVariate(this.delay, this.delay * this.jitter));
    }
    if (this.noisy) {
      log.info(
        `Will retry ${target.getDestination().toString()} in ${secondsText(this.delay)} seconds`,
        { delay: this.delay, retries: this.retries },
      );
    }
    // The connector's own reactor, not the default one: a program that made
    // its own reactor and stopped it must not go on retrying on another.
    const clock = this.clock ?? target.reactor ?? getReactor();
    this.#pendingRetry = clock.callLater(this.delay, () => {
      this.#pendingRetry = null;
      this.#removeShutdownHooks();
      this.#reconnect(target);
    });
    this.#addShutdownHooks(target);
  }

  /**
   * Stops reconnecting: cancels a pending retry and stops an attempt in
   * progress. An established connection is left alone.
   */
  stopTrying(): void {
    // Set first: stopping an attempt calls clientConnectionFailed, which must not retry.
    this.continueTrying = false;
    this.#dropPendingRetry();
    const connector = this.connector;
    if (connector?.state === 'connecting') {
      try {
        connector.stopConnecting();
      } catch (err) {
        log.failure('Error while stopping a connection attempt', err);
      }
    }
  }

  /**
   * Starts over: the delay goes back to `initialDelay`, the retry count to
   * 0, and retrying is enabled again. Call it once a connection is good.
   */
  resetDelay(): void {
    this.delay = this.initialDelay;
    this.retries = 0;
    this.continueTrying = true;
  }

  #dropPendingRetry(): void {
    if (this.#pendingRetry !== null) {
      if (this.#pendingRetry.active()) this.#pendingRetry.cancel();
      this.#pendingRetry = null;
    }
    this.#removeShutdownHooks();
  }

  /**
   * A stopped reactor runs nothing, so a retry still pending when the
   * connector's reactor shuts down would only sit in its `getDelayedCalls()`.
   * `before shutdown` drops a retry pending when `stop()` is called, so it
   * does not reconnect during the shutdown grace period; `after shutdown`
   * drops the one scheduled while shutting down, when the reactor cancelled
   * the attempt in progress (its `running` stays true until shutdown ends, so
   * this is how the factory hears of it). Retrying is not stopped
   * (`continueTrying` is kept), as in Twisted.
   */
  #addShutdownHooks(connector: IConnector): void {
    const reactor = connector.reactor;
    if (reactor === undefined || !hasLifecycle(reactor)) return;
    this.#removeShutdownHooks();
    const hooks: { reactor: IReactorCore; ids: SystemEventTriggerId[] } = { reactor, ids: [] };
    const shuttingDown = (firing: SystemEventTriggerId): void => {
      // A trigger that ran is gone from the reactor; only the other one is left to remove.
      hooks.ids = hooks.ids.filter((id) => id !== firing);
      if (this.noisy && this.#pendingRetry !== null) {
        log.info(
          `Not reconnecting to ${connector.getDestination().toString()}: its reactor is stopping`,
        );
      }
      this.#dropPendingRetry();
    };
    for (const phase of ['before', 'after'] as const) {
      const id: SystemEventTriggerId = reactor.addSystemEventTrigger(phase, 'shutdown', () => {
        shuttingDown(id);
      });
      hooks.ids.push(id);
    }
    this.#shutdownHooks = hooks;
  }

  #removeShutdownHooks(): void {
    const hooks = this.#shutdownHooks;
    if (hooks === null) return;
    this.#shutdownHooks = null;
    for (const id of hooks.ids) hooks.reactor.removeSystemEventTrigger(id);
  }

  #reconnect(connector: IConnector): void {
    try {
      connector.connect();
    } catch (err) {
      if (err instanceof ReactorNotRestartable) {
        // Retrying cannot help: the connector's reactor has stopped for good.
        log.info(
          `Not reconnecting to ${connector.getDestination().toString()}: its reactor has stopped`,
          { destination: connector.getDestination().toString() },
        );
        return;
      }
      log.failure('Error while reconnecting; will retry', err, {
        destination: connector.getDestination().toString(),
      });
      this.retry(connector);
    }
  }

  // Box-Muller: a normal variate from two uniform ones (1 - u keeps log() finite).
  #normalVariate(mean: number, deviation: number): number {
    const u1 = 1 - this.random();
    const u2 = this.random();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return mean + z * deviation;
  }
}
