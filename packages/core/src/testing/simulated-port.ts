/**
 * `SimulatedPort`: a listening port on a virtual host. It binds on the next
 * turn (as a real port binds asynchronously), refuses a port already taken on
 * that host with CannotListenError (EADDRINUSE), and builds a protocol for
 * each connection whose SYN reaches it.
 *
 * Tests: test/testing/simulated-reactor.test.ts
 * @module
 */
import { IPv4Address } from '../address.js';
import type { IAddress } from '../address.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { Deferred, fail, succeed } from '../deferred.js';
import { CannotListenError } from '../errors.js';
import type { IListeningPort, IProtocolFactory } from '../interfaces.js';
import { callMethodSafely, THREW } from '../reactor-kit/call-safely.js';
import { describeType } from '../describe-type.js';
import { Logger } from '../log.js';
import { systemError } from '../internal/system-error.js';
import type { OpenResources } from '../reactor-kit/open-resources.js';
import { Protocol } from '../protocol.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';
import { SimulatedConnection } from './simulated-transport.js';
import type { SimulatedTransportOwner } from './simulated-transport.js';

const log = new Logger('torsion.simulated');

type PortState = 'binding' | 'listening' | 'stopping' | 'closed' | 'failed';

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/**
 * A port listening on a {@link SimulatedHost}; what `listenTCP` returns on a
 * {@link SimulatedReactor}.
 *
 * @remarks `factory.doStart()` runs once the port is bound and
 * `factory.doStop()` once it stopped listening; a port that never bound
 * calls neither. Connections it accepted stay open when it stops.
 */
export class SimulatedPort implements IListeningPort {
  /** The factory connections are built with. */
  readonly factory: IProtocolFactory;
  /** The host the port is on. */
  readonly host: SimulatedHost;
  /** The backlog asked for (recorded; the simulation never fills it). */
  readonly backlog: number;
  readonly #network: SimulatedNetwork;
  readonly #open: OpenResources;
  readonly #requestedPort: number;
  readonly #interface: string;
  readonly #highWaterMark: number;
  #state: PortState = 'binding';
  #bound = false;
  #address: IAddress;
  #failure: CannotListenError | null = null;
  #listenWaiters: Deferred<IListeningPort>[] = [];
  #stopWaiters: Deferred<void>[] = [];

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    host: SimulatedHost,
    port: number,
    factory: IProtocolFactory,
    options: { iface: string; backlog: number; highWaterMark: number },
  ) {
    this.#network = network;
    this.#open = open;
    this.host = host;
    this.#requestedPort = port;
    this.factory = factory;
    this.#interface = options.iface;
    this.backlog = options.backlog;
    this.#highWaterMark = options.highWaterMark;
    this.#address = new IPv4Address('TCP', host.address, 0);
  }

  /** @internal Starts binding (on the next turn). */
  startListening(): void {
    this.#open.addPort(this);
    this.#network.schedule(0, SimulatedPort.#bindSoon, this);
  }

  /** Fires with this port once bound, or fails with CannotListenError. Each call returns a new Deferred. */
  whenListening(): Deferred<IListeningPort> {
    if (this.#failure !== null) return fail<IListeningPort>(this.#failure);
    if (this.#bound) return succeed<IListeningPort>(this);
    const d = new Deferred<IListeningPort>();
    this.#listenWaiters.push(d);
    return d;
  }

  /** Stops accepting connections; fires on the next turn. Open connections stay. */
  stopListening(): Deferred<void> {
    if (this.#state === 'closed' || this.#state === 'failed') return succeed(undefined);
    if (this.#state === 'listening') {
      this.#network.unbindPort(this.host, this.#address.port);
      this.#network.schedule(0, SimulatedPort.#finishStopSoon, this, true);
    }
    this.#state = 'stopping';
    const d = new Deferred<void>();
    this.#stopWaiters.push(d);
    return d;
  }

  /** The bound address; port 0 until bound. */
  getHost(): IAddress {
    return this.#address;
  }

  /** @returns e.g. `SimulatedPort(127.0.0.1:8000, EchoFactory)`. */
  toString(): string {
    return `SimulatedPort(${this.#address.toString()}, ${describeType(this.factory)})`;
  }

  /**
   * A SYN arrived: builds the server end. `null` when not listening.
   * @internal
   */
  _accept(
    clientHost: SimulatedHost,
    clientAddress: IAddress,
    clientOwner: SimulatedTransportOwner,
  ): SimulatedConnection | null {
    if (this.#state !== 'listening' || this.#open.closed) return null;
    const built = buildProtocolSafely(log, this.factory, clientAddress);
    const network = this.#network;
    const connection = new SimulatedConnection(
      network,
      network.nextConnectionId(),
      clientHost,
      this.host,
      {
        clientAddress,
        serverAddress: this.#address,
        clientOwner,
        serverOwner: this.#open,
        highWaterMark: this.#highWaterMark,
      },
    );
    network.connectionOpened(connection);
    network.record('accept', connection, clientAddress, this.#address);
    const server = connection.server;
    this.#open.addTransport(server);
    server._accept();
    // As on TCP, the handshake completed before the factory was asked: a
    // refusal (null) closes the new connection, an exception resets it.
    if (built === THREW || built === null) {
      server._start(new Protocol());
      if (built === THREW) server.abortConnection();
      else server.loseConnection();
    } else {
      server._start(built);
    }
    return connection;
  }

  static #bindSoon(port: SimulatedPort): void {
    port.#bind();
  }

  #bind(): void {
    if (this.#state === 'stopping') {
      this.#fail(
        systemError('ECANCELED', 'stopListening() was called before the port was bound'),
        false,
      );
      this.#finishStop(false);
      return;
    }
    if (this.#open.closed) {
      this.#fail(systemError('ECANCELED', 'the reactor has stopped'), true);
      this.#finishStop(false);
      return;
    }
    const host = this.host;
    if (!WILDCARDS.has(this.#interface) && this.#interface !== host.address) {
      this.#fail(
        systemError('EADDRNOTAVAIL', `${this.#interface} is not an address of ${host.toString()}`),
        true,
      );
      this.#finishStop(false);
      return;
    }
    const network = this.#network;
    let number = this.#requestedPort;
    if (number === 0) {
      const allocated = network.allocatePort(host);
      if (allocated === undefined) {
        this.#fail(systemError('EADDRINUSE', `no free port on ${host.toString()}`), true);
        this.#finishStop(false);
        return;
      }
      network.releasePort(host, allocated);
      number = allocated;
    }
    if (!network.bindPort(host, number, this)) {
      this.#fail(
        systemError('EADDRINUSE', `${host.address}:${String(number)} is already in use`),
        true,
      );
      this.#finishStop(false);
      return;
    }
    this.#address = new IPv4Address('TCP', host.address, number);
    this.#bound = true;
    this.#state = 'listening';
    network.record('listen', null, this.#address, this.#address);
    callMethodSafely(
      log,
      'Unhandled error in doStart',
      { port: this.#address.toString() },
      this.factory,
      'doStart',
    );
    const waiters = this.#listenWaiters;
    this.#listenWaiters = [];
    for (const d of waiters) d.callback(this);
  }

  #fail(cause: Error, logIfUnobserved: boolean): void {
    const failure = new CannotListenError(this.#interface, this.#requestedPort, { cause });
    this.#failure = failure;
    const waiters = this.#listenWaiters;
    this.#listenWaiters = [];
    if (waiters.length === 0) {
      if (logIfUnobserved) log.failure('Could not listen', failure, { port: this.#requestedPort });
      return;
    }
    for (const d of waiters) d.errback(failure);
  }

  static #finishStopSoon(port: SimulatedPort, wasListening: boolean): void {
    port.#finishStop(wasListening);
  }

  #finishStop(wasListening: boolean): void {
    this.#state = this.#failure === null ? 'closed' : 'failed';
    this.#open.portClosed(this);
    if (wasListening) {
      callMethodSafely(
        log,
        'Unhandled error in doStop',
        { port: this.#address.toString() },
        this.factory,
        'doStop',
      );
    }
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }
}
