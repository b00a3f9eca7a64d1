/**
 * `SimulatedPort`: a listening port on a virtual host. It binds on the next
 * turn (as a real port binds asynchronously), refuses a port already taken on
 * that host with CannotListenError (EADDRINUSE), and builds a protocol for
 * each connection whose SYN reaches it. The state, the waiters,
 * `doStart`/`doStop` and the logging are BasePort's; this file binds, closes
 * and accepts on the simulated network.
 *
 * Tests: test/testing/simulated/simulated-reactor.test.ts
 * @module
 */
import { IPv4Address } from '../../address.js';
import type { IAddress, INETAddress } from '../../address.js';
import type { IProtocolFactory } from '../../interfaces.js';
import { systemError } from '../../internal/system-error.js';
import { Logger } from '../../log.js';
import { Protocol } from '../../protocol.js';
import { BasePort } from '../../reactor-kit/base-port.js';
import { buildProtocolSafely } from '../../reactor-kit/build-protocol.js';
import { THREW } from '../../reactor-kit/call-safely.js';
import type { OpenResources } from '../../reactor-kit/open-resources.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';
import { SimulatedConnection } from './simulated-transport.js';
import type { SimulatedTransport, SimulatedTransportOwner } from './simulated-transport.js';

const log = new Logger('torsion.simulated');

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/** Where a simulated port registers the server ends it accepts. @internal */
export interface AcceptingOwner extends SimulatedTransportOwner {
  addTransport(transport: SimulatedTransport<IAddress>): void;
}

/**
 * The {@link AcceptingOwner} of `port`, made once per port: it routes to
 * the port's own (protected) connection bookkeeping.
 * @internal
 */
export function acceptingOwner(
  addConnection: (transport: SimulatedTransport<IAddress>) => void,
  port: SimulatedTransportOwner,
): AcceptingOwner {
  return {
    addTransport: addConnection,
    transportClosed(transport, reason) {
      port.transportClosed(transport, reason);
    },
  };
}

/** Who is on each end of a connection a simulated port accepts. @internal */
export interface AcceptedEnds<A extends IAddress> {
  readonly clientHost: SimulatedHost;
  readonly serverHost: SimulatedHost;
  readonly clientAddress: A;
  readonly serverAddress: A;
  readonly clientOwner: SimulatedTransportOwner;
  /** The accepting port's owner callbacks: the server end is added here and removed when it closes. */
  readonly serverOwner: AcceptingOwner;
  readonly highWaterMark: number;
}

/**
 * Opens the connection a simulated port accepted (TCP or UNIX): registers
 * it and its server end, traces it, and sends the SYN-ACK.
 * @internal
 */
export function openAcceptedConnection<A extends IAddress>(
  network: SimulatedNetwork,
  ends: AcceptedEnds<A>,
): SimulatedConnection<A> {
  const connection = new SimulatedConnection<A>(
    network,
    network.nextConnectionId(),
    ends.clientHost,
    ends.serverHost,
    ends,
  );
  network.connectionOpened(connection);
  network.record('accept', connection, ends.clientAddress, ends.serverAddress);
  const server = connection.server;
  ends.serverOwner.addTransport(server);
  server._accept();
  return connection;
}

/**
 * The server end of an accepted connection gets its protocol. As on TCP, the
 * handshake completed before the factory was asked: a refusal (null) closes
 * the new connection, an exception resets it.
 * @internal
 */
export function startServerProtocol<A extends IAddress>(
  server: SimulatedTransport<A>,
  factory: IProtocolFactory,
  clientAddress: A,
): void {
  const built = buildProtocolSafely(log, factory, clientAddress);
  if (built === THREW || built === null) {
    server._start(new Protocol());
    if (built === THREW) server.abortConnection();
    else server.loseConnection();
  } else {
    server._start(built);
  }
}

/**
 * A port listening on a {@link SimulatedHost}; what `listenTCP` returns on a
 * {@link SimulatedReactor}.
 *
 * @remarks `factory.doStart()` runs once the port is bound and
 * `factory.doStop()` once it stopped listening; a port that never bound
 * calls neither. Connections it accepted stay open when it stops.
 */
export class SimulatedPort extends BasePort {
  /** The host the port is on. */
  readonly host: SimulatedHost;
  /** The backlog asked for (recorded; the simulation never fills it). */
  readonly backlog: number;
  readonly #network: SimulatedNetwork;
  readonly #highWaterMark: number;
  /** Where the server ends this port accepts are registered (and forgotten when they close). */
  readonly #owner = acceptingOwner((transport) => {
    this.addConnection(transport);
  }, this);

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    host: SimulatedHost,
    port: number,
    factory: IProtocolFactory,
    options: { iface: string; backlog: number; highWaterMark: number },
  ) {
    super({
      resources: open,
      factory,
      port,
      iface: options.iface,
      host: new IPv4Address('TCP', host.address, 0),
      log,
    });
    this.#network = network;
    this.host = host;
    this.backlog = options.backlog;
    this.#highWaterMark = options.highWaterMark;
  }

  /**
   * A SYN arrived: builds the server end. `null` when not listening.
   * @internal
   */
  _accept(
    clientHost: SimulatedHost,
    clientAddress: INETAddress,
    clientOwner: SimulatedTransportOwner,
  ): SimulatedConnection | null {
    if (!this.accepting) return null;
    const connection = openAcceptedConnection(this.#network, {
      clientHost,
      serverHost: this.host,
      clientAddress,
      serverAddress: this.getHost(),
      clientOwner,
      serverOwner: this.#owner,
      highWaterMark: this.#highWaterMark,
    });
    this.connectionAccepted(connection.server, clientAddress);
    return connection;
  }

  /**
   * The connection is established: asks the factory for a protocol and
   * attaches it. As on TCP, the handshake completed before the factory was
   * asked: a refusal (null) closes the new connection, an exception resets
   * it. A TLS port runs its handshake first.
   */
  protected connectionAccepted(server: SimulatedTransport, clientAddress: INETAddress): void {
    startServerProtocol(server, this.factory, clientAddress);
  }

  /** Binds on the next turn of the simulated network, as a real port binds asynchronously. */
  protected bind(): void {
    this.#network.schedule(0, SimulatedPort.#bindSoon, this);
  }

  /** Unbinds now; the port reports itself closed on the next turn. */
  protected close(): void {
    this.#network.unbindPort(this.host, this.getHost().port);
    this.#network.schedule(0, SimulatedPort.#closedSoon, this);
  }

  static #bindSoon(port: SimulatedPort): void {
    port.#bind();
  }

  static #closedSoon(port: SimulatedPort): void {
    port.closed();
  }

  #bind(): void {
    if (this.stopRequested) {
      this.bindFailed(
        systemError('ECANCELED', 'stopListening() was called before the port was bound'),
      );
      return;
    }
    if (this.resources.closed) {
      this.bindFailed(systemError('ECANCELED', 'the reactor has stopped'));
      return;
    }
    const host = this.host;
    const iface = this.requestedInterface;
    if (!WILDCARDS.has(iface) && iface !== host.address) {
      this.bindFailed(
        systemError('EADDRNOTAVAIL', `${iface} is not an address of ${host.toString()}`),
      );
      return;
    }
    const network = this.#network;
    let number = this.requestedPort;
    if (number === 0) {
      const allocated = network.allocatePort(host);
      if (allocated === undefined) {
        this.bindFailed(systemError('EADDRINUSE', `no free port on ${host.toString()}`));
        return;
      }
      network.releasePort(host, allocated);
      number = allocated;
    }
    if (!network.bindPort(host, number, this)) {
      this.bindFailed(
        systemError('EADDRINUSE', `${host.address}:${String(number)} is already in use`),
      );
      return;
    }
    const address = new IPv4Address('TCP', host.address, number);
    network.record('listen', null, address, address);
    this.bound(address);
  }
}
