/**
 * `BunTCPConnector`: an outgoing TCP connection on `Bun.connect`, retried as
 * Twisted's `tcp.Connector`, with the semantics of core's Node connector:
 * Bun's connect errors map to Torsion's ConnectError family, the attempt is
 * timed out by the reactor's own clock, and the client factory hears
 * `startedConnecting`, then `clientConnectionFailed` or, once connected,
 * `clientConnectionLost`.
 *
 * Bun cannot cancel a connect in flight: an abandoned attempt (timed out or
 * stopped) is closed as soon as Bun reports it open, and never reaches the
 * factory.
 *
 * Tests: test/connector.bun.test.ts, test/transport.bun.test.ts
 * @module
 */
import {
  addressFor,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  Failure,
  Logger,
  Protocol,
  ReactorNotRestartable,
  TimeoutError,
} from '@torsion/core';
import type {
  ConnectorState,
  IAddress,
  IClientFactory,
  IConnector,
  IDelayedCall,
  IProtocol,
  IReactorTime,
  OpenResources,
} from '@torsion/core';
import type { SocketHandler } from 'bun';
import { callMethodSafely, THREW } from './call-safely.js';
import { describeType } from './describe-type.js';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData, TransportOwner } from './bun-tcp-transport.js';

const log = new Logger('torsion.bun');

/** Resolves a host name to an address to connect to (tests inject one that fails without a network). */
export type HostLookup = (hostname: string) => Promise<string>;

/** Where and how to connect. */
export interface ConnectorSettings {
  readonly host: string;
  readonly port: number;
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  /** Write high-water mark of the connection, in bytes. */
  readonly writeHighWaterMark: number;
  /** Name resolution to use instead of Bun's own. */
  readonly lookup?: HostLookup;
}

/**
 * One connection attempt: `socket.data` until the socket opens.
 * @internal
 */
export class Attempt {
  live = true;
  constructor(readonly connector: BunTCPConnector) {}
}

/** The handlers of every outgoing socket: one object for the whole process. */
const CONNECT_HANDLERS: SocketHandler<SocketData> = {
  open(socket) {
    const attempt = socket.data;
    if (attempt instanceof Attempt && attempt.live) {
      attempt.connector.connected(socket, attempt);
    } else {
      // An attempt given up on (timed out, stopped) that succeeded after all.
      socket.data = null;
      socket.terminate();
    }
  },
  connectError(socket, error) {
    const attempt = socket.data;
    socket.data = null;
    if (attempt instanceof Attempt && attempt.live) attempt.connector.connectFailed(attempt, error);
  },
  ...BunTCPTransport.handlers,
};

/** The error code of a connect failure. */
function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Classifies a Bun connect error as ConnectionRefusedError, DNSLookupError or ConnectError. */
export function connectErrorFor(err: unknown, destination: string): ConnectError {
  const error = err instanceof Error ? err : new Error(String(err));
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') {
    return new ConnectionRefusedError(`Connection to ${destination} was refused`, {
      cause: error,
    });
  }
  if (code === 'ENOTFOUND' || code?.startsWith('EAI_') === true || code?.startsWith('DNS_')) {
    return new DNSLookupError(`DNS lookup failed for ${destination}: ${error.message}`, {
      cause: error,
    });
  }
  return new ConnectError(`Could not connect to ${destination}: ${error.message}`, {
    cause: error,
  });
}

/**
 * An outgoing TCP connection, created by `reactor.connectTCP()`.
 *
 * @remarks
 * `factory.doStart()` runs when an attempt starts after the connector was
 * idle, and `factory.doStop()` when an attempt fails or a connection ends and
 * the factory did not call `connect()` again from its callback (so a
 * reconnecting factory stays started across retries).
 */
export class BunTCPConnector implements IConnector, TransportOwner {
  readonly #resources: OpenResources;
  readonly #clock: IReactorTime;
  readonly #factory: IClientFactory;
  readonly #settings: ConnectorSettings;
  readonly #destination: IAddress;
  #state: ConnectorState = 'disconnected';
  #attempt: Attempt | null = null;
  /** Inside `Bun.connect()`: a failure it reports now is delivered on a later turn. */
  #dialing = false;
  #timeoutCall: IDelayedCall | null = null;
  #transport: BunTCPTransport | null = null;
  #factoryStarted = false;

  constructor(
    resources: OpenResources,
    clock: IReactorTime,
    factory: IClientFactory,
    settings: ConnectorSettings,
  ) {
    this.#resources = resources;
    this.#clock = clock;
    this.#factory = factory;
    this.#settings = settings;
    this.#destination = addressFor('TCP', settings.host, settings.port);
  }

  /** `'disconnected'`, `'connecting'` or `'connected'`. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** The connection, while connected. */
  get transport(): BunTCPTransport | null {
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
    const attempt = new Attempt(this);
    this.#attempt = attempt;
    const { host, timeout, lookup } = this.#settings;
    if (lookup === undefined) {
      this.#dial(attempt, host);
    } else {
      lookup(host).then(
        (address) => {
          if (attempt.live) this.#dial(attempt, address);
        },
        (err: unknown) => {
          if (attempt.live) this.connectFailed(attempt, err);
        },
      );
    }
    if (attempt.live && timeout !== Infinity) {
      this.#timeoutCall = this.#clock.callLater(timeout, BunTCPConnector.#timedOut, this);
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
   * receives a ConnectError.
   * @throws Error if not connecting.
   */
  stopConnecting(): void {
    if (this.#state !== 'connecting') {
      throw new Error(
        `stopConnecting() needs a connection attempt in progress; it is ${this.#state}`,
      );
    }
    this.#attemptFailed(
      new ConnectError(`The connection attempt to ${this.#destination.toString()} was cancelled`),
    );
  }

  /** Where this connector connects to. */
  getDestination(): IAddress {
    return this.#destination;
  }

  /** @returns a short description for logs. */
  toString(): string {
    return `BunTCPConnector(${this.#destination.toString()}, ${this.#state})`;
  }

  /**
   * The connection made by this connector is gone.
   * @internal
   */
  transportClosed(transport: BunTCPTransport, reason: Failure): void {
    this.#resources.transportClosed(transport, reason);
    if (transport !== this.#transport) return;
    this.#transport = null;
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionLost', this, reason);
    this.#maybeStopFactory();
  }

  /**
   * Bun's `connectError` (or a failed lookup) for `attempt`.
   * @internal
   */
  connectFailed(attempt: Attempt, err: unknown): void {
    if (attempt !== this.#attempt) return;
    if (this.#dialing) {
      // Never call the factory from inside connect().
      setImmediate(() => {
        this.connectFailed(attempt, err);
      });
      return;
    }
    this.#attemptFailed(connectErrorFor(err, this.#destination.toString()));
  }

  /**
   * Bun's `open` for `attempt`: the connection is made.
   * @internal
   */
  connected(socket: BunSocket, attempt: Attempt): void {
    if (attempt !== this.#attempt) {
      socket.data = null;
      socket.terminate();
      return;
    }
    this.#endAttempt();
    // A peer that reset at once leaves Bun without addresses to report.
    const remoteHost = socket.remoteAddress as string | undefined;
    const localHost = socket.localAddress as string | undefined;
    const peer = addressFor(
      'TCP',
      remoteHost ?? this.#settings.host,
      remoteHost === undefined ? this.#settings.port : socket.remotePort,
    );
    const host = addressFor(
      'TCP',
      localHost ?? '0.0.0.0',
      localHost === undefined ? 0 : socket.localPort,
    );
    this.#state = 'connected';
    const factory = this.#factory;
    const built = callMethodSafely(
      log,
      `Unhandled error in ${describeType(factory)}.buildProtocol; connection closed`,
      { peer: peer.toString() },
      factory,
      'buildProtocol',
      peer,
    );
    // As Twisted: a refused (null) or failed build still gets a transport, with a
    // do-nothing protocol, so the factory hears clientConnectionLost as usual.
    const protocol: IProtocol = built === THREW || built == null ? new Protocol() : built;
    const transport = new BunTCPTransport(
      socket,
      protocol,
      host,
      peer,
      this,
      this.#settings.writeHighWaterMark,
    );
    this.#transport = transport;
    this.#resources.addTransport(transport);
    if (built === THREW) transport.abortConnection();
    else if (built == null) transport.loseConnection();
    else transport.start();
  }

  #dial(attempt: Attempt, hostname: string): void {
    this.#dialing = true;
    try {
      Bun.connect<SocketData>({
        hostname,
        port: this.#settings.port,
        allowHalfOpen: true,
        data: attempt,
        socket: CONNECT_HANDLERS,
      }).catch(ignore);
    } catch (err) {
      // Options Bun rejects at once are reported like any failure, on a later turn.
      setImmediate(() => {
        if (attempt.live) this.connectFailed(attempt, err);
      });
    } finally {
      this.#dialing = false;
    }
  }

  #callFactory<K extends Exclude<keyof IClientFactory, 'buildProtocol'>>(
    method: K,
    ...args: Parameters<IClientFactory[K]>
  ): void {
    callMethodSafely(
      log,
      `Unhandled error in ${describeType(this.#factory)}.${method}`,
      { destination: this.#destination.toString() },
      this.#factory,
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
    const attempt = this.#attempt;
    this.#attempt = null;
    if (attempt !== null) attempt.live = false;
    if (this.#timeoutCall !== null) {
      if (this.#timeoutCall.active()) this.#timeoutCall.cancel();
      this.#timeoutCall = null;
    }
    this.#resources.connectorFinished(this);
  }

  #attemptFailed(error: ConnectError | TimeoutError): void {
    if (this.#state !== 'connecting') return;
    this.#endAttempt();
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionFailed', this, new Failure(error));
    this.#maybeStopFactory();
  }

  static #timedOut(connector: BunTCPConnector): void {
    connector.#timeoutCall = null;
    connector.#attemptFailed(
      new TimeoutError(
        `Connection to ${connector.#destination.toString()} timed out after ${connector.#settings.timeout} s`,
      ),
    );
  }
}

function ignore(): void {}
