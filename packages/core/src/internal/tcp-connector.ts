/**
 * `TCPConnector`: an outgoing TCP connection that can be retried, as Twisted's
 * `tcp.Connector`. It maps Node's connect errors to Torsion's ConnectError
 * family, times the attempt out with the reactor's own clock, and reports to
 * the client factory: `startedConnecting`, then `clientConnectionFailed` or,
 * once connected, `clientConnectionLost`.
 *
 * Tests: test/tcp-connector.integration.test.ts, test/tcp.integration.test.ts
 * @module
 */
import { Socket } from 'node:net';
import type { LookupFunction, TcpSocketConnectOpts } from 'node:net';
import { addressFor } from '../address.js';
import type { IAddress } from '../address.js';
import {
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  ReactorNotRestartable,
  TimeoutError,
} from '../errors.js';
import { Failure } from '../failure.js';
import type {
  ConnectorState,
  IClientFactory,
  IConnector,
  IDelayedCall,
  IProtocol,
  IReactorTime,
} from '../interfaces.js';
import { Logger } from '../log.js';
import { Protocol } from '../protocol.js';
import { callMethodSafely, THREW } from './call-safely.js';
import type { Registry } from './registry.js';
import { TCPTransport } from './tcp-transport.js';
import type { TransportOwner } from './tcp-transport.js';
import { describeType } from './write-data.js';

const log = new Logger('torsion.tcp');

const kConnector = Symbol('torsion.connector');
interface ConnectingSocket extends Socket {
  [kConnector]?: TCPConnector | undefined;
}

/** Where and how to connect. */
export interface ConnectorSettings {
  readonly host: string;
  readonly port: number;
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  readonly bindAddress?: { host: string; port?: number };
  /** Name resolution to use instead of `dns.lookup` (tests use it to fail a lookup without a network). */
  readonly lookup?: LookupFunction;
}

/** The Node error code of a connect failure (Happy Eyeballs reports an AggregateError). */
function errorCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      if (inner instanceof Error) {
        const innerCode = errorCode(inner);
        if (innerCode !== undefined) return innerCode;
      }
    }
  }
  return undefined;
}

/** Classifies a Node connect error as ConnectionRefusedError, DNSLookupError or ConnectError. */
export function connectErrorFor(err: Error, destination: string): ConnectError {
  switch (errorCode(err)) {
    case 'ECONNREFUSED':
      return new ConnectionRefusedError(`Connection to ${destination} was refused`, {
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
    case 'EAI_FAIL':
      return new DNSLookupError(`DNS lookup failed for ${destination}: ${err.message}`, {
        cause: err,
      });
    default:
      return new ConnectError(`Could not connect to ${destination}: ${err.message}`, {
        cause: err,
      });
  }
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
export class TCPConnector implements IConnector, TransportOwner {
  readonly #registry: Registry;
  readonly #clock: IReactorTime;
  readonly #factory: IClientFactory;
  readonly #settings: ConnectorSettings;
  readonly #destination: IAddress;
  #state: ConnectorState = 'disconnected';
  #socket: ConnectingSocket | null = null;
  #timeoutCall: IDelayedCall | null = null;
  #transport: TCPTransport | null = null;
  #factoryStarted = false;

  constructor(
    registry: Registry,
    clock: IReactorTime,
    factory: IClientFactory,
    settings: ConnectorSettings,
  ) {
    this.#registry = registry;
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
  get transport(): TCPTransport | null {
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
    if (this.#registry.closed) {
      throw new ReactorNotRestartable('The reactor has stopped; it cannot open connections');
    }
    this.#state = 'connecting';
    this.#registry.connectorStarted(this);
    if (!this.#factoryStarted) {
      this.#factoryStarted = true;
      this.#callFactory('doStart');
    }
    // The factory may have called stopConnecting() from doStart.
    if ((this.#state as ConnectorState) !== 'connecting') return;
    const socket: ConnectingSocket = new Socket({ allowHalfOpen: true });
    socket[kConnector] = this;
    this.#socket = socket;
    socket.on('error', TCPConnector.#onSocketError);
    socket.once('connect', TCPConnector.#onSocketConnect);
    const { host, port, bindAddress, timeout, lookup } = this.#settings;
    const options: TcpSocketConnectOpts = { host, port };
    if (lookup !== undefined) options.lookup = lookup;
    if (bindAddress !== undefined) {
      options.localAddress = bindAddress.host;
      if (bindAddress.port !== undefined) options.localPort = bindAddress.port;
    }
    try {
      socket.connect(options);
    } catch (err) {
      // Bad options are rejected synchronously; report them like any failure ('error' follows).
      socket.destroy(err instanceof Error ? err : new Error(String(err)));
    }
    if (timeout !== Infinity) {
      this.#timeoutCall = this.#clock.callLater(timeout, TCPConnector.#timedOut, this);
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
    return `TCPConnector(${this.#destination.toString()}, ${this.#state})`;
  }

  /**
   * The connection made by this connector is gone.
   * @internal
   */
  transportClosed(transport: TCPTransport, reason: Failure): void {
    this.#registry.transportClosed(transport, reason);
    if (transport !== this.#transport) return;
    this.#transport = null;
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionLost', this, reason);
    this.#maybeStopFactory();
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

  #endAttempt(): ConnectingSocket | null {
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) socket[kConnector] = undefined;
    if (this.#timeoutCall !== null) {
      if (this.#timeoutCall.active()) this.#timeoutCall.cancel();
      this.#timeoutCall = null;
    }
    this.#registry.connectorFinished(this);
    return socket;
  }

  #attemptFailed(error: ConnectError | TimeoutError): void {
    if (this.#state !== 'connecting') return;
    const socket = this.#endAttempt();
    // Its 'error' listener stays (and now ignores events): a late error is harmless.
    socket?.destroy();
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionFailed', this, new Failure(error));
    this.#maybeStopFactory();
  }

  #connected(socket: ConnectingSocket): void {
    this.#endAttempt();
    const peer = addressFor(
      'TCP',
      socket.remoteAddress ?? this.#settings.host,
      socket.remotePort ?? this.#settings.port,
    );
    const host = addressFor('TCP', socket.localAddress ?? '0.0.0.0', socket.localPort ?? 0);
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
    const transport = new TCPTransport(
      socket,
      protocol,
      host,
      peer,
      this,
      this.#registry.writeHighWaterMark,
    );
    socket.removeListener('error', TCPConnector.#onSocketError);
    this.#transport = transport;
    this.#registry.addTransport(transport);
    if (built === THREW) transport.abortConnection();
    else if (built == null) transport.loseConnection();
    else transport.start();
  }

  static #onSocketError(this: ConnectingSocket, err: Error): void {
    const connector = this[kConnector];
    if (connector === undefined || connector.#socket !== this) return;
    connector.#attemptFailed(connectErrorFor(err, connector.#destination.toString()));
  }

  static #onSocketConnect(this: ConnectingSocket): void {
    const connector = this[kConnector];
    if (connector === undefined || connector.#socket !== this) {
      this.destroy();
      return;
    }
    connector.#connected(this);
  }

  static #timedOut(connector: TCPConnector): void {
    connector.#timeoutCall = null;
    connector.#attemptFailed(
      new TimeoutError(
        `Connection to ${connector.#destination.toString()} timed out after ${connector.#settings.timeout} s`,
      ),
    );
  }
}
