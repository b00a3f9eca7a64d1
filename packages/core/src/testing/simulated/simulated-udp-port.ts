/**
 * `SimulatedUDPPort`: a UDP port on a virtual host, what `listenUDP` returns
 * on a {@link SimulatedReactor}. It binds on the next turn (as a real port
 * binds asynchronously); what happens to its datagrams on the way is
 * {@link SimulatedDatagrams}'. The checks and the protocol's lifecycle are
 * BaseUDPPort's. The simulated network is IPv4 only: an IPv6 interface fails
 * the bind (EAFNOSUPPORT).
 *
 * Tests: test/testing/simulated/simulated-udp.test.ts, test/types/datagram-protocol.test-d.ts
 * @module
 */
import { IPv4Address, type INETAddress } from '../../address.js';
import type { IDatagramProtocol, WriteData } from '../../interfaces.js';
import { systemError } from '../../internal/system-error.js';
import { toBuffer } from '../../internal/write-data.js';
import { Logger } from '../../log.js';
import { BaseUDPPort, type CheckedListenUDPOptions } from '../../reactor-kit/base-udp-port.js';
import type { OpenResources } from '../../reactor-kit/open-resources.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';

const log = new Logger('torsion.simulated');

const WILDCARDS = new Set(['0.0.0.0', '::']);

function isMulticastAddress(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** A UDP port on a {@link SimulatedHost}. */
export class SimulatedUDPPort extends BaseUDPPort {
  /** The host the port is on. */
  readonly host: SimulatedHost;
  readonly #network: SimulatedNetwork;

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    host: SimulatedHost,
    port: number,
    protocol: IDatagramProtocol,
    options: CheckedListenUDPOptions,
  ) {
    super({ resources: open, protocol, port, options, log });
    this.#network = network;
    this.host = host;
  }

  /** @internal A datagram arrived from `from`. */
  _receive(data: Buffer, from: INETAddress): void {
    this.datagramArrived(data, from);
  }

  /** @internal An ICMP port unreachable came back from the connected peer. */
  _refused(): void {
    this.refusedByPeer();
  }

  protected bind(): void {
    this.#network.schedule(0, SimulatedUDPPort.#bindSoon, this);
  }

  protected close(): void {
    this.#network.datagrams.unbind(this.host, this.getHost().port, this);
    this.#network.schedule(0, SimulatedUDPPort.#closedSoon, this);
  }

  static #bindSoon(port: SimulatedUDPPort): void {
    port.#bind();
  }

  static #closedSoon(port: SimulatedUDPPort): void {
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
    const iface = this.requestedInterface;
    if (this.family === 'IPv6') {
      this.bindFailed(systemError('EAFNOSUPPORT', 'the simulated network is IPv4 only'));
      return;
    }
    // A group address is bound to hear that group only, as Linux allows.
    if (!WILDCARDS.has(iface) && iface !== this.host.address && !isMulticastAddress(iface)) {
      this.bindFailed(
        systemError('EADDRNOTAVAIL', `${iface} is not an address of ${this.host.toString()}`),
      );
      return;
    }
    const bound = this.#network.datagrams.bind(this.host, this.requestedPort, this);
    if (bound instanceof Error) {
      this.bindFailed(bound);
      return;
    }
    const address = new IPv4Address('UDP', this.host.address, bound);
    this.#network.record('udp-listen', null, address, address);
    this.bound(address);
  }

  protected sendTo(data: WriteData, host: string, port: number): void {
    this.#send(data, host, port);
  }

  protected sendConnected(data: WriteData): void {
    const peer = this.connectedTo;
    if (peer !== null) this.#send(data, peer.host, peer.port);
  }

  /** Copies the bytes (the caller may reuse its buffer) and hands them to the network. */
  #send(data: WriteData, host: string, port: number): void {
    try {
      this.#network.datagrams.send(this, Buffer.from(toBuffer(data)), host, port);
    } catch (err) {
      this.sendFailed(err);
    }
  }

  protected connectSocket(): void {
    // Nothing to do: BaseUDPPort filters what arrives from anyone else.
  }

  protected setSocketBroadcast(): void {
    // Read back from getBroadcastAllowed() by the network when it matters.
  }

  protected setSocketMulticastTTL(): void {
    // Every simulated host is one hop away: any TTL reaches them all.
  }

  protected setSocketMulticastLoopback(): void {
    // Read back from getLoopbackMode() by the network.
  }

  protected setSocketMembership(join: boolean, group: string, iface?: string): void {
    this.#checkInterface(iface);
    if (join) this.#network.datagrams.join(group, this);
    else this.#network.datagrams.leave(group, this);
  }

  protected setSocketMulticastInterface(iface: string): void {
    this.#checkInterface(iface);
  }

  #checkInterface(iface: string | undefined): void {
    if (iface === undefined || WILDCARDS.has(iface) || iface === this.host.address) return;
    throw systemError('EADDRNOTAVAIL', `${iface} is not an address of ${this.host.toString()}`);
  }
}
