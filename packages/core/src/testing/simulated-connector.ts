/**
 * `SimulatedConnector`: an outgoing connection on a {@link SimulatedNetwork},
 * with the callbacks and failure reasons of the real TCP connector. The name
 * is resolved against the network's hosts (DNSLookupError when unknown), the
 * SYN crosses the link, and the attempt ends in a connection (one round
 * trip), ConnectionRefusedError (nothing listens, or the port is refused:
 * also one round trip), or TimeoutError (the address has no host, or a
 * partition holds the SYN until the timeout).
 *
 * Tests: test/testing/simulated-reactor.test.ts
 * @module
 */
import { addressFor, IPv4Address } from '../address.js';
import type { IAddress } from '../address.js';
import type { DelayedCall } from '../delayed-call.js';
import {
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  ReactorNotRestartable,
  TimeoutError,
} from '../errors.js';
import { Failure } from '../failure.js';
import type { ConnectorState, IClientFactory, IConnector, IProtocol } from '../interfaces.js';
import { callMethodSafely, THREW } from '../internal/call-safely.js';
import { describeType } from '../internal/write-data.js';
import { Logger } from '../log.js';
import type { OpenResources } from '../open-resources.js';
import { Protocol } from '../protocol.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';
import { systemError } from './simulated-port.js';
import type { SimulatedConnection, SimulatedTransport } from './simulated-transport.js';

const log = new Logger('torsion.simulated');

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/** Where and how a {@link SimulatedConnector} connects. @internal */
export interface SimulatedConnectorSettings {
  readonly from: SimulatedHost;
  readonly host: string;
  readonly port: number;
  readonly timeout: number;
  readonly bindAddress?: { readonly host: string; readonly port?: number };
}

/**
 * What `connectTCP` returns on a {@link SimulatedReactor}.
 *
 * @remarks
 * As the TCP connector: `factory.doStart()` when an attempt starts from
 * idle, `startedConnecting`, then `clientConnectionFailed` or (once the
 * connection ends) `clientConnectionLost`, and `factory.doStop()` when the
 * factory did not reconnect from that callback. Failures are always reported
 * on a later turn, never from inside `connectTCP`.
 */
// Also a SimulatedTransportOwner, checked structurally where a connection is
// given one: an `implements` of an internal interface would dangle in the
// published declarations.
export class SimulatedConnector implements IConnector {
  /** The client factory. */
  readonly factory: IClientFactory;
  readonly #network: SimulatedNetwork;
  readonly #open: OpenResources;
  readonly #settings: SimulatedConnectorSettings;
  readonly #destination: IAddress;
  #state: ConnectorState = 'disconnected';
  /** Bumped when an attempt ends, so late events of an old attempt are ignored. */
  #attempt = 0;
  #timeoutCall: DelayedCall | null = null;
  #pending: SimulatedTransport | null = null;
  #localPort: number | null = null;
  #transport: SimulatedTransport | null = null;
  #factoryStarted = false;

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    factory: IClientFactory,
    settings: SimulatedConnectorSettings,
  ) {
    this.#network = network;
    this.#open = open;
    this.factory = factory;
    this.#settings = settings;
    this.#destination = addressFor('TCP', settings.host, settings.port);
  }

  /** `'disconnected'`, `'connecting'` or `'connected'`. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** The connection's client end, while connected. */
  get transport(): SimulatedTransport | null {
    return this.#transport;
  }

  /** The host this connector connects from. */
  get from(): SimulatedHost {
    return this.#settings.from;
  }

  /**
   * Starts an attempt (again, after a failure or a lost connection).
   * @throws Error if already connecting or connected; ReactorNotRestartable once the reactor stopped.
   */
  connect(): void {
    if (this.#state !== 'disconnected') {
      throw new Error(`connect() needs a disconnected connector; it is ${this.#state}`);
    }
    if (this.#open.closed) {
      throw new ReactorNotRestartable('The reactor has stopped; it cannot open connections');
    }
    this.#state = 'connecting';
    this.#open.connectorStarted(this);
    if (!this.#factoryStarted) {
      this.#factoryStarted = true;
      this.#callFactory('doStart');
    }
    if ((this.#state as ConnectorState) !== 'connecting') return;
    const attempt = ++this.#attempt;
    this.#network.schedule(0, SimulatedConnector.#sendSyn, this, attempt);
    if (this.#settings.timeout !== Infinity) {
      this.#timeoutCall = this.#network.schedule(
        this.#settings.timeout,
        SimulatedConnector.#timedOut,
        this,
        attempt,
      );
    }
    this.#callFactory('startedConnecting', this);
  }

  /** Cancels an attempt in progress, or closes the connection (`loseConnection`). */
  disconnect(): void {
    if (this.#state === 'connecting') this.stopConnecting();
    else if (this.#state === 'connected') this.#transport?.loseConnection();
  }

  /**
   * Cancels the attempt in progress: `clientConnectionFailed` gets a ConnectError.
   * @throws Error if not connecting.
   */
  stopConnecting(): void {
    if (this.#state !== 'connecting') {
      throw new Error(
        `stopConnecting() needs a connection attempt in progress; it is ${this.#state}`,
      );
    }
    this.#failed(
      new ConnectError(`The connection attempt to ${this.#destination.toString()} was cancelled`),
    );
  }

  /** Where this connector connects to. */
  getDestination(): IAddress {
    return this.#destination;
  }

  /** @returns e.g. `SimulatedConnector(server:79, connecting)`. */
  toString(): string {
    return `SimulatedConnector(${this.#destination.toString()}, ${this.#state})`;
  }

  /** @internal The connection made by this connector is gone. */
  transportClosed(transport: SimulatedTransport, reason: Failure): void {
    this.#open.transportClosed(transport, reason);
    if (transport !== this.#transport) return;
    this.#transport = null;
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionLost', this, reason);
    this.#maybeStopFactory();
  }

  // ------------------------------------------------------------ the handshake

  static #sendSyn(connector: SimulatedConnector, attempt: number): void {
    if (attempt !== connector.#attempt) return;
    const network = connector.#network;
    const { from, host, port, bindAddress } = connector.#settings;
    const resolved = network.resolve(host);
    if (resolved === undefined) {
      network.record('dns-failed', null, from.address, host);
      connector.#failed(
        new DNSLookupError(`DNS lookup failed for ${host}: no simulated host has that name`, {
          cause: systemError('ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`),
        }),
      );
      return;
    }
    if (
      bindAddress !== undefined &&
      !WILDCARDS.has(bindAddress.host) &&
      bindAddress.host !== from.address
    ) {
      connector.#failed(
        new ConnectError(`Could not bind to ${bindAddress.host}`, {
          cause: systemError(
            'EADDRNOTAVAIL',
            `${bindAddress.host} is not an address of ${from.toString()}`,
          ),
        }),
      );
      return;
    }
    const localPort =
      bindAddress?.port !== undefined
        ? network.reservePort(from, bindAddress.port)
          ? bindAddress.port
          : undefined
        : network.allocatePort(from);
    if (localPort === undefined) {
      connector.#failed(
        new ConnectError(`Could not bind a local port on ${from.toString()}`, {
          cause: systemError('EADDRINUSE', 'address already in use'),
        }),
      );
      return;
    }
    connector.#localPort = localPort;
    const clientAddress = new IPv4Address('TCP', from.address, localPort);
    network.record('syn', null, clientAddress, `${resolved.address}:${String(port)}`);
    const target = resolved.host;
    // No host has the address: the SYN goes nowhere and the timeout decides.
    if (target === undefined) return;
    network.sendControl(from, target, () => {
      connector.#synArrived(attempt, target, clientAddress);
    });
  }

  #synArrived(attempt: number, target: SimulatedHost, clientAddress: IAddress): void {
    // The attempt ended meanwhile (timeout, cancel): the SYN finds no one waiting for an answer.
    if (attempt !== this.#attempt) return;
    const network = this.#network;
    const port = this.#settings.port;
    const listening = network.isRefused(target, port) ? undefined : network.portAt(target, port);
    const connection = listening?._accept(this.#settings.from, clientAddress, this) ?? null;
    if (connection === null) {
      network.record('refused', null, `${target.address}:${String(port)}`, clientAddress);
      network.sendControl(target, this.#settings.from, () => {
        if (attempt !== this.#attempt) return;
        this.#failed(
          new ConnectionRefusedError(`Connection to ${this.#destination.toString()} was refused`, {
            cause: systemError(
              'ECONNREFUSED',
              `connect ECONNREFUSED ${target.address}:${String(port)}`,
            ),
          }),
        );
      });
      return;
    }
    const client = connection.client;
    this.#pending = client;
    client._whenAccepted(() => {
      this.#connected(attempt, connection);
    });
  }

  #connected(attempt: number, connection: SimulatedConnection): void {
    if (attempt !== this.#attempt) return;
    this.#endAttempt();
    this.#pending = null;
    this.#localPort = null; // released with the connection from now on
    const transport = connection.client;
    this.#state = 'connected';
    this.#transport = transport;
    this.#open.addTransport(transport);
    this.#network.record('connected', connection, transport.getHost(), transport.getPeer());
    const factory = this.factory;
    const peer = transport.getPeer();
    const built = callMethodSafely(
      log,
      `Unhandled error in ${describeType(factory)}.buildProtocol; connection closed`,
      { peer: peer.toString() },
      factory,
      'buildProtocol',
      peer,
    );
    // As the TCP connector: a refused or failed build still gets a transport,
    // with a do-nothing protocol, so the factory hears clientConnectionLost.
    const protocol: IProtocol = built === THREW || built == null ? new Protocol() : built;
    transport._start(protocol);
    if (built === THREW) transport.abortConnection();
    else if (built == null) transport.loseConnection();
  }

  static #timedOut(connector: SimulatedConnector, attempt: number): void {
    if (attempt !== connector.#attempt) return;
    connector.#timeoutCall = null;
    connector.#network.record(
      'timeout',
      null,
      connector.#settings.from.address,
      connector.#destination.toString(),
    );
    connector.#failed(
      new TimeoutError(
        `Connection to ${connector.#destination.toString()} timed out after ${connector.#settings.timeout} s`,
      ),
    );
  }

  #endAttempt(): void {
    this.#attempt++;
    if (this.#timeoutCall !== null) {
      if (this.#timeoutCall.active()) this.#timeoutCall.cancel();
      this.#timeoutCall = null;
    }
    this.#open.connectorFinished(this);
  }

  #failed(error: ConnectError | TimeoutError): void {
    if (this.#state !== 'connecting') return;
    this.#endAttempt();
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) {
      // Accepted, but the SYN-ACK had not arrived: a late one is answered with RST.
      pending._abandon();
    } else if (this.#localPort !== null) {
      this.#network.releasePort(this.#settings.from, this.#localPort);
    }
    this.#localPort = null;
    this.#state = 'disconnected';
    this.#callFactory('clientConnectionFailed', this, new Failure(error));
    this.#maybeStopFactory();
  }

  #callFactory<K extends Exclude<keyof IClientFactory, 'buildProtocol'>>(
    method: K,
    ...args: Parameters<IClientFactory[K]>
  ): void {
    callMethodSafely(
      log,
      `Unhandled error in ${describeType(this.factory)}.${method}`,
      { destination: this.#destination.toString() },
      this.factory,
      method,
      ...(args as never),
    );
  }

  #maybeStopFactory(): void {
    if (this.#state === 'disconnected' && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.#callFactory('doStop');
    }
  }
}
