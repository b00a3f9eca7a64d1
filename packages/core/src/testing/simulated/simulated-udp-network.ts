/**
 * `SimulatedDatagrams`: the UDP half of a {@link SimulatedNetwork}
 * (`network.datagrams`): which UDP ports are bound on which host, and what
 * happens to a datagram on the way: latency and jitter, then the link's
 * seeded loss, duplication and reordering, its MTU, partitions (a datagram
 * sent across one is lost: nothing retransmits it), multicast groups and
 * broadcast, and the ICMP port unreachable that a datagram to a closed port
 * draws. Every random choice comes from a generator seeded from the
 * network's seed, so a run repeats exactly for a seed.
 *
 * Tests: test/testing/simulated/simulated-udp.test.ts
 * @module
 */
import { IPv4Address } from '../../address.js';
import { systemError } from '../../internal/system-error.js';
import { SeededRandom } from '../seeded-random.js';
import type { SimulatedHost } from './simulated-host.js';
import { REORDER_DELAY, resolveLinkConditions } from './simulated-link.js';
import type { SimulatedNetwork } from './simulated-network.js';
import type { SimulatedUDPPort } from './simulated-udp-port.js';

/** UDP (8) and IPv4 (20) headers: what a datagram adds to its payload on the link. */
const HEADER_BYTES = 28;
/** Mixed into the network's seed, so UDP draws leave the TCP sequence as it was. */
const SEED_SALT = 0x5eed_0d9a;
const FIRST_EPHEMERAL_PORT = 49152;
const LAST_EPHEMERAL_PORT = 65535;
const BROADCAST = '255.255.255.255';

/** What became of the datagrams sent on a simulated network; see {@link SimulatedNetwork.datagramStats}. */
export interface DatagramStats {
  /** Datagrams handed to the network by a `write()` (one per destination of a multicast or broadcast). */
  sent: number;
  /** Datagrams that reached a listening port (a duplicate counts again). */
  delivered: number;
  /** Lost to the link's `loss`, or across a partition. */
  lost: number;
  /** Extra copies made by the link's `duplication`. */
  duplicated: number;
  /** Held back by the link's `reorder`. */
  reordered: number;
  /** Dropped because the packet was larger than the link's `mtu`. */
  tooBig: number;
  /** Reached a host with no port bound there (or a refused one): an ICMP port unreachable went back. */
  unreachable: number;
}

function isMulticast(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** The UDP ports and datagrams of a {@link SimulatedNetwork}. */
export class SimulatedDatagrams {
  /** What became of the datagrams sent so far. */
  readonly stats: DatagramStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    tooBig: 0,
    unreachable: 0,
  };
  readonly #network: SimulatedNetwork;
  readonly #random: SeededRandom;
  /** `address:port` → the ports bound there (several with `listenMultiple`), newest last. */
  readonly #bound = new Map<string, SimulatedUDPPort[]>();
  readonly #nextPort = new Map<SimulatedHost, number>();
  /** Multicast group → the ports that joined it. */
  readonly #groups = new Map<string, Set<SimulatedUDPPort>>();

  /** @internal Built by the network. */
  constructor(network: SimulatedNetwork) {
    this.#network = network;
    this.#random = new SeededRandom((network.seed ^ SEED_SALT) >>> 0);
  }

  // ---------------------------------------------------------------- for the ports

  /**
   * Binds `port` on `host` (0: a free ephemeral port).
   * @returns the port number, or an Error (EADDRINUSE) to fail the bind with.
   * @internal
   */
  bind(host: SimulatedHost, port: number, listening: SimulatedUDPPort): number | Error {
    let number = port;
    if (number === 0) {
      const free = this.#freePort(host);
      if (free === undefined)
        return systemError('EADDRINUSE', `no free UDP port on ${host.toString()}`);
      number = free;
    }
    const key = `${host.address}:${String(number)}`;
    const existing = this.#bound.get(key);
    if (existing !== undefined && existing.length > 0) {
      if (!listening.listenMultiple || existing.some((p) => !p.listenMultiple)) {
        return systemError('EADDRINUSE', `UDP ${key} is already in use`);
      }
      existing.push(listening);
    } else {
      this.#bound.set(key, [listening]);
    }
    return number;
  }

  /** @internal */
  unbind(host: SimulatedHost, port: number, listening: SimulatedUDPPort): void {
    const key = `${host.address}:${String(port)}`;
    const remaining = (this.#bound.get(key) ?? []).filter((p) => p !== listening);
    if (remaining.length === 0) this.#bound.delete(key);
    else this.#bound.set(key, remaining);
    for (const members of this.#groups.values()) members.delete(listening);
  }

  /** @internal */
  join(group: string, listening: SimulatedUDPPort): void {
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Set()));
    members.add(listening);
  }

  /**
   * @internal
   * @throws Error (EADDRNOTAVAIL) if the port is not a member, as the system refuses it.
   */
  leave(group: string, listening: SimulatedUDPPort): void {
    if (this.#groups.get(group)?.delete(listening) !== true) {
      throw systemError('EADDRNOTAVAIL', `not a member of ${group}`);
    }
  }

  /**
   * Sends a datagram from `source` to `host:port`: a unicast address, a
   * multicast group, or 255.255.255.255.
   * @throws Error (EACCES) for a broadcast without `setBroadcastAllowed(true)`, as Linux refuses it.
   * @internal
   */
  send(source: SimulatedUDPPort, data: Buffer, host: string, port: number): void {
    const from = source.getHost();
    if (host === BROADCAST) {
      if (!source.getBroadcastAllowed()) {
        throw systemError('EACCES', 'broadcast needs setBroadcastAllowed(true)');
      }
      for (const target of this.#network.hosts) this.#route(source, data, target, host, port);
      return;
    }
    if (isMulticast(host)) {
      const members = [...(this.#groups.get(host) ?? [])].filter(
        (p) => p.getHost().port === port && (p !== source || source.getLoopbackMode()),
      );
      const hosts = new Set(members.map((p) => p.host));
      for (const target of hosts) {
        if (target === source.host && !source.getLoopbackMode()) continue;
        this.#route(source, data, target, host, port);
      }
      return;
    }
    const target = this.#network.findHost(host);
    this.stats.sent++;
    if (target === undefined) {
      // No such host: the datagram goes nowhere, and nothing says so.
      this.stats.lost++;
      this.#network.record('udp-lost', null, from, `${host}:${String(port)}`, data.length);
      return;
    }
    this.#travel(source, data, target, host, port);
  }

  // ---------------------------------------------------------------- private

  #route(
    source: SimulatedUDPPort,
    data: Buffer,
    target: SimulatedHost,
    destination: string,
    port: number,
  ): void {
    this.stats.sent++;
    this.#travel(source, data, target, destination, port);
  }

  /** Applies the link's conditions and schedules the arrival of each copy. */
  #travel(
    source: SimulatedUDPPort,
    data: Buffer,
    target: SimulatedHost,
    destination: string,
    port: number,
  ): void {
    const network = this.#network;
    const from = source.getHost();
    const to = `${destination}:${String(port)}`;
    const link = resolveLinkConditions(...network.linkLayers(source.host, target));
    if (data.length + HEADER_BYTES > link.mtu) {
      this.stats.tooBig++;
      network.record('udp-too-big', null, from, to, data.length);
      return;
    }
    if (!network.reachable(source.host, target)) {
      this.stats.lost++;
      network.record('udp-lost', null, from, to, data.length);
      return;
    }
    const random = this.#random;
    if (link.loss > 0 && random.next() < link.loss) {
      this.stats.lost++;
      network.record('udp-lost', null, from, to, data.length);
      return;
    }
    let copies = 1;
    if (link.duplication > 0 && random.next() < link.duplication) {
      copies = 2;
      this.stats.duplicated++;
    }
    network.record('udp-send', null, from, to, data.length);
    for (let i = 0; i < copies; i++) {
      let delay = link.latency;
      if (link.jitter > 0) delay += random.next() * link.jitter;
      if (link.reorder > 0 && random.next() < link.reorder) {
        this.stats.reordered++;
        delay += random.next() * Math.max(REORDER_DELAY, link.latency);
      }
      network.schedule(delay, () => {
        this.#arrive(source, data, target, destination, port, link.latency);
      });
    }
  }

  #arrive(
    source: SimulatedUDPPort,
    data: Buffer,
    target: SimulatedHost,
    destination: string,
    port: number,
    latency: number,
  ): void {
    const network = this.#network;
    const from = source.getHost();
    const to = `${destination}:${String(port)}`;
    const multicast = isMulticast(destination);
    let receivers: SimulatedUDPPort[];
    if (multicast) {
      receivers = [...(this.#groups.get(destination) ?? [])].filter(
        (p) => p.host === target && p.getHost().port === port,
      );
    } else {
      const bound = this.#bound.get(`${target.address}:${String(port)}`) ?? [];
      // Unicast reaches one socket of a shared port (the newest, as Linux picks); broadcast reaches all.
      receivers = destination === BROADCAST ? bound : bound.slice(-1);
    }
    if (receivers.length === 0 || network.isRefused(target, port)) {
      if (multicast || destination === BROADCAST) return;
      this.stats.unreachable++;
      network.record('udp-unreachable', null, from, to, data.length);
      // The ICMP port unreachable takes one latency back; only a connected socket hears it.
      network.schedule(latency, () => {
        const peer = source.connectedTo;
        if (peer !== null && peer.host === destination && peer.port === port) source._refused();
      });
      return;
    }
    const sender = new IPv4Address('UDP', from.host, from.port);
    for (const receiver of receivers) {
      this.stats.delivered++;
      network.record('udp-deliver', null, from, to, data.length);
      receiver._receive(data, sender);
    }
  }

  #freePort(host: SimulatedHost): number | undefined {
    let candidate = this.#nextPort.get(host) ?? FIRST_EPHEMERAL_PORT;
    const range = LAST_EPHEMERAL_PORT - FIRST_EPHEMERAL_PORT + 1;
    for (let i = 0; i < range; i++) {
      const port = candidate;
      candidate = candidate === LAST_EPHEMERAL_PORT ? FIRST_EPHEMERAL_PORT : candidate + 1;
      if (!this.#bound.has(`${host.address}:${String(port)}`)) {
        this.#nextPort.set(host, candidate);
        return port;
      }
    }
    return undefined;
  }
}
