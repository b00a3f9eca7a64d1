/**
 * `BaseConnector`: what every reactor's connector shares, as Twisted's
 * `base.BaseConnector`: the `disconnected → connecting → connected` state,
 * the client factory's callbacks (each exception logged and contained),
 * `doStart`/`doStop` kept started across retries, the attempt's timeout on
 * the reactor's clock, registration in {@link OpenResources}, and the
 * protocol built for the connection. A concrete connector only does I/O: it
 * starts an attempt, abandons one, and reports how the attempt ended.
 *
 * Tests: test/tcp-connector.integration.test.ts,
 * test/testing/simulated/simulated-reactor.test.ts, and the connecting part of the
 * conformance suite (@torsion/reactor-conformance) on every reactor
 * @module
 */
import type { IAddress } from '../address.js';
import { buildProtocolSafely } from './build-protocol.js';
import { NotConnectingError, ReactorNotRestartable, TimeoutError, UserError } from '../errors.js';
import type { ConnectError } from '../errors.js';
import { Failure } from '../failure.js';
import type {
  ConnectorState,
  IClientFactory,
  IConnector,
  IDelayedCall,
  IProtocol,
  IReactorTime,
  IStreamTransport,
  ITCPTransport,
} from '../interfaces.js';
import { callMethodSafely, THREW } from './call-safely.js';
import { describeType } from '../describe-type.js';
import type { Logger } from '../log.js';
import type { OpenResources } from './open-resources.js';
import { Protocol } from '../protocol.js';

/** What a {@link BaseConnector} needs from its reactor. */
export interface BaseConnectorOptions {
  /** The reactor's open resources: the attempt and the connection register here. */
  readonly resources: OpenResources;
  /** Times the attempt out; usually the reactor itself. */
  readonly clock: Pick<IReactorTime, 'callLater'>;
  /** The reactor that made the connector, exposed as {@link IConnector.reactor}. */
  readonly reactor?: IReactorTime;
  /** The client factory. */
  readonly factory: IClientFactory;
  /** Where the connector connects to. */
  readonly destination: IAddress;
  /** Seconds before an attempt fails with TimeoutError; `Infinity` for none. */
  readonly timeout: number;
  /** Where exceptions from the factory are logged (the reactor's namespace). */
  readonly log: Logger;
}

/**
 * The shared half of an `IConnector`. Extend it to write a reactor's
 * connector; see "Writing a reactor" in docs/reactors.md.
 *
 * @typeParam T - the transport this connector's connections use.
 *
 * @remarks
 * The subclass implements {@link BaseConnector.startAttempt} and
 * {@link BaseConnector.abandonAttempt}, and ends each attempt with exactly
 * one of {@link BaseConnector.attemptSucceeded} or
 * {@link BaseConnector.attemptFailed} (ignored once the attempt was given
 * up: timed out or cancelled). Its transports call
 * {@link BaseConnector.transportClosed} once their protocol's
 * `connectionLost` ran.
 *
 * `factory.doStart()` runs when an attempt starts after the connector was
 * idle, and `factory.doStop()` when an attempt fails or a connection ends and
 * the factory did not call `connect()` again from its callback (so a
 * reconnecting factory stays started across retries).
 */
export abstract class BaseConnector<
  T extends IStreamTransport = ITCPTransport,
> implements IConnector {
  /** The client factory. */
  readonly factory: IClientFactory;
  /** The reactor that made this connector (a reconnecting factory retries on it). */
  readonly reactor: IReactorTime | undefined;
  readonly #resources: OpenResources;
  readonly #clock: Pick<IReactorTime, 'callLater'>;
  readonly #destination: IAddress;
  readonly #timeout: number;
  readonly #log: Logger;
  #state: ConnectorState = 'disconnected';
  #timeoutCall: IDelayedCall | null = null;
  #transport: T | null = null;
  #factoryStarted = false;

  /** @param options - see {@link BaseConnectorOptions}. */
  protected constructor(options: BaseConnectorOptions) {
    this.factory = options.factory;
    this.reactor = options.reactor;
    this.#resources = options.resources;
    this.#clock = options.clock;
    this.#destination = options.destination;
    this.#timeout = options.timeout;
    this.#log = options.log;
  }

  // ------------------------------------------------------------ for the subclass to provide

  /**
   * Starts the I/O of a new attempt. Report its end with
   * {@link BaseConnector.attemptSucceeded} or
   * {@link BaseConnector.attemptFailed}, on a later turn (never from inside
   * this call).
   */
  protected abstract startAttempt(): void;

  /**
   * The attempt in progress is over without a connection (it failed, timed
   * out or was cancelled): release what it holds, and make sure a late
   * success of it is closed and never reported.
   */
  protected abstract abandonAttempt(): void;

  // ------------------------------------------------------------ IConnector

  /** `'disconnected'`, `'connecting'` or `'connected'`. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** The connection, while connected. */
  get transport(): T | null {
    return this.#transport;
  }

  /**
   * Starts a connection attempt (again, after a failure or a lost connection).
   * @throws Error if already connecting or connected.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  connect(): void {
    if (this.#state !== 'disconnected') {
      throw new Error(`connect() needs a disconnected connector; it is ${this.#state}`);
    }
    if (this.#resources.closed) {
      throw new ReactorNotRestartable('The reactor has stopped; it cannot open connections');
    }
    this.#state = 'connecting';
    this.#resources.connectorStarted(this);
    if (!this.#factoryStarted) {
      this.#factoryStarted = true;
      this.#callFactory('doStart');
    }
    // The factory may have called stopConnecting() from doStart.
    if ((this.#state as ConnectorState) !== 'connecting') return;
    this.startAttempt();
    if (this.#timeout !== Infinity) {
      this.#timeoutCall = this.#clock.callLater(this.#timeout, BaseConnector.#timedOut, this);
    }
    this.#callFactory('startedConnecting', this);
  }

  /** Cancels an attempt in progress, or closes the connection (`loseConnection`). */
  disconnect(): void {
    if (this.#state === 'connecting') this.stopConnecting();
    else if (this.#state === 'connected') this.#transport?.loseConnection();
  }

  /**
   * Cancels the attempt in progress: the factory's `clientConnectionFailed`
   * receives a UserError (this side gave up; not a network failure).
   * @throws NotConnectingError if not connecting.
   */
  stopConnecting(): void {
    if (this.#state !== 'connecting') {
      throw new NotConnectingError(
        `stopConnecting() needs a connection attempt in progress; it is ${this.#state}`,
      );
    }
    this.attemptFailed(
      new UserError(`The connection attempt to ${this.#destination.toString()} was cancelled`),
    );
  }

  /** Where this connector connects to. */
  getDestination(): IAddress {
    return this.#destination;
  }

  /** @returns e.g. `TCPConnector(127.0.0.1:8000, connecting)`. */
  toString(): string {
    return `${describeType(this)}(${this.#destination.toString()}, ${this.#state})`;
  }

  /**
   * The connection made by this connector is gone (its protocol's
   * `connectionLost` already ran): the factory hears `clientConnectionLost`.
   * Called by the connector's transports, not by users.
   */
  transportClosed(transport: T, reason: Failure): void {
    this.#resources.transportClosed(transport, reason);
    if (transport !== this.#transport) return;
    this.#transport = null;
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionLost', this, reason);
    this.#maybeStopFactory();
  }

  // ------------------------------------------------------------ for the subclass to call

  /**
   * The attempt ended without a connection: the factory hears
   * `clientConnectionFailed(reason)`. Ignored unless connecting.
   * @param error - ConnectionRefusedError, DNSLookupError, another
   *   ConnectError, or (from this class) UserError and TimeoutError.
   */
  protected attemptFailed(error: ConnectError): void {
    if (this.#state !== 'connecting') return;
    this.#endAttempt();
    this.abandonAttempt();
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionFailed', this, new Failure(error));
    this.#maybeStopFactory();
  }

  /**
   * The timeout expired. Fails the attempt with TimeoutError; override to
   * record something first, then call this.
   */
  protected attemptTimedOut(): void {
    this.attemptFailed(
      new TimeoutError(
        `Connection to ${this.#destination.toString()} timed out after ${this.#timeout} s`,
      ),
    );
  }

  /**
   * The attempt made a connection. Asks the factory for a protocol and builds
   * the transport with `makeTransport(protocol)`, registers it, and starts it
   * with {@link BaseConnector.startTransport}. As in Twisted, a refused
   * (`null`) or failed build still gets a transport, with a do-nothing
   * protocol, so the factory hears `clientConnectionLost` as usual: a refused
   * one is then closed cleanly, a failed one aborted.
   *
   * @param peer - the address the connection reached (given to `buildProtocol`).
   * @param makeTransport - builds the (not yet started) transport for the protocol.
   */
  protected attemptSucceeded(peer: IAddress, makeTransport: (protocol: IProtocol) => T): void {
    this.#endAttempt();
    this.#state = 'connected';
    const built = buildProtocolSafely(this.#log, this.factory, peer);
    const protocol: IProtocol = built === THREW || built === null ? new Protocol() : built;
    const transport = makeTransport(protocol);
    this.#transport = transport;
    this.#resources.addTransport(transport);
    this.startTransport(transport, protocol);
    if (built === THREW) transport.abortConnection();
    else if (built === null) transport.loseConnection();
  }

  /**
   * Attaches `protocol` to a transport built by
   * {@link BaseConnector.attemptSucceeded} (`makeConnection`).
   */
  protected abstract startTransport(transport: T, protocol: IProtocol): void;

  // ------------------------------------------------------------ internals

  #callFactory<K extends Exclude<keyof IClientFactory, 'buildProtocol'>>(
    method: K,
    ...args: Parameters<IClientFactory[K]>
  ): void {
    callMethodSafely(
      this.#log,
      `Unhandled error in ${describeType(this.factory)}.${method}`,
      { destination: this.#destination.toString() },
      this.factory,
      method,
      ...(args as never),
    );
  }

  #maybeStopFactory(): void {
    // The factory did not reconnect from its callback: this round is over.
    if (this.#state === 'disconnected' && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.#callFactory('doStop');
    }
  }

  #endAttempt(): void {
    if (this.#timeoutCall !== null) {
      if (this.#timeoutCall.active()) this.#timeoutCall.cancel();
      this.#timeoutCall = null;
    }
    this.#resources.connectorFinished(this);
  }

  static #timedOut(connector: BaseConnector<IStreamTransport>): void {
    connector.#timeoutCall = null;
    connector.attemptTimedOut();
  }
}
