/**
 * `SimulatedUNIXPort`: a UNIX-domain socket listening on a virtual host. It
 * binds on the next turn (as a real port binds asynchronously) in the host's
 * own file namespace ({@link SimulatedUNIXFiles}): a stale socket file is
 * replaced, a live one or a plain file never is (CannotListenError,
 * EADDRINUSE), `wantPID` holds `<path>.lock`, and `mode` is the file's from
 * the start. `stopListening()` removes the file and the lock only while they
 * are still this port's. Connections are accepted as a TCP port accepts them
 * (simulated-port.ts's openAcceptedConnection), with UNIX addresses.
 *
 * Tests: test/testing/simulated/simulated-unix.test.ts, and the UNIX section of
 * the conformance suite on the simulated reactor
 * @module
 */
import { UNIXAddress } from '../../address.js';
import type { IProtocolFactory } from '../../interfaces.js';
import { systemError } from '../../internal/system-error.js';
import { Logger } from '../../log.js';
import { BasePort } from '../../reactor-kit/base-port.js';
import type { OpenResources } from '../../reactor-kit/open-resources.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';
import { acceptingOwner, openAcceptedConnection, startServerProtocol } from './simulated-port.js';
import type { SimulatedConnection, SimulatedTransportOwner } from './simulated-transport.js';

const log = new Logger('torsion.simulated');

/** A client's own end, which the kernel reports without a name. */
const UNNAMED = new UNIXAddress(null);

/** `listenUNIX` options after the reactor's checks. @internal */
export interface SimulatedUNIXPortSettings {
  readonly backlog: number;
  readonly mode: number;
  readonly wantPID: boolean;
  readonly highWaterMark: number;
}

/** What `listenUNIX` returns on a {@link SimulatedReactor} or a {@link SimulatedHost}. */
export class SimulatedUNIXPort extends BasePort<UNIXAddress> {
  /** The host whose file system has the socket. */
  readonly host: SimulatedHost;
  /** The backlog asked for (recorded; the simulation never fills it). */
  readonly backlog: number;
  readonly #network: SimulatedNetwork;
  readonly #path: string;
  readonly #settings: SimulatedUNIXPortSettings;
  /** Where the server ends this port accepts are registered (and forgotten when they close). */
  readonly #owner = acceptingOwner((transport) => {
    this.addConnection(transport);
  }, this);

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    host: SimulatedHost,
    path: string,
    factory: IProtocolFactory,
    settings: SimulatedUNIXPortSettings,
  ) {
    const address = new UNIXAddress(path);
    super({ resources: open, factory, port: -1, iface: address.toString(), host: address, log });
    this.#network = network;
    this.host = host;
    this.backlog = settings.backlog;
    this.#path = path;
    this.#settings = settings;
  }

  /** Whether it accepts connections (what the host's files ask). @internal */
  get listening(): boolean {
    return this.accepting;
  }

  /**
   * A client on the same host connects: builds the server end. `null` when not listening.
   * @internal
   */
  _accept(clientOwner: SimulatedTransportOwner): SimulatedConnection<UNIXAddress> | null {
    if (!this.accepting) return null;
    const connection = openAcceptedConnection(this.#network, {
      clientHost: this.host,
      serverHost: this.host,
      clientAddress: UNNAMED,
      serverAddress: this.getHost(),
      clientOwner,
      serverOwner: this.#owner,
      highWaterMark: this.#settings.highWaterMark,
    });
    startServerProtocol(connection.server, this.factory, UNNAMED);
    return connection;
  }

  /** Binds on the next turn of the simulated network, as a real port binds asynchronously. */
  protected bind(): void {
    this.#network.schedule(0, SimulatedUNIXPort.#bindSoon, this);
  }

  /** Removes the file (if still ours) now; the port reports itself closed on the next turn. */
  protected close(): void {
    this.host.unixFiles._unbind(this.#path, this);
    this.#network.schedule(0, SimulatedUNIXPort.#closedSoon, this);
  }

  static #bindSoon(port: SimulatedUNIXPort): void {
    port.#bind();
  }

  static #closedSoon(port: SimulatedUNIXPort): void {
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
    const { mode, wantPID } = this.#settings;
    // Bound (accepting) from here on, so the files see a live listener.
    const refusal = this.host.unixFiles._bind(this.#path, this, mode, wantPID);
    if (refusal !== null) {
      this.bindFailed(systemError(refusal.code, refusal.why));
      return;
    }
    this.#network.record('listen', null, this.getHost(), this.getHost());
    this.bound(this.getHost());
  }
}
