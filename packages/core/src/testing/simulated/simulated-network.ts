/**
 * `SimulatedNetwork`: the virtual hosts, names, listening ports and
 * connections of a {@link SimulatedReactor}, and the faults a test injects
 * into them: link conditions (latency, bandwidth, jitter, chunking),
 * refused ports, partitions and resets. Every random choice comes from one
 * seeded generator, so a run repeats exactly for a given seed.
 *
 * Tests: test/testing/simulated/simulated-network.test.ts,
 * test/testing/simulated/simulated-udp.test.ts
 * @module
 */
import { isIP } from 'node:net';
import type { IAddress } from '../../address.js';
import type { DelayedCall } from '../../delayed-call.js';
import { TimerQueue } from '../../internal/timer-queue.js';
import { Logger } from '../../log.js';
import { SeededRandom } from '../seeded-random.js';
import { SimulatedHost } from './simulated-host.js';
import type { LinkConditions, ResolvedLinkConditions } from './simulated-link.js';
import { resolveLinkConditions, validateLinkConditions } from './simulated-link.js';
import type { SimulatedPort } from './simulated-port.js';
import type { SimulatedReactor } from './simulated-reactor.js';
import type { SimulatedConnection } from './simulated-transport.js';
import { SimulatedDatagrams, type DatagramStats } from './simulated-udp-network.js';

const log = new Logger('torsion.simulated');

/** The first port handed out for port 0 and for client ends, as Linux's ephemeral range. */
export const FIRST_EPHEMERAL_PORT = 49152;
const LAST_EPHEMERAL_PORT = 65535;

/** The address of the reactor's own host, named `localhost`. */
export const LOCALHOST_ADDRESS = '127.0.0.1';

/** One recorded network event (see {@link SimulatedNetwork.events}). */
export interface TraceEvent {
  /** Virtual time, in seconds. */
  readonly time: number;
  /**
   * What happened: `listen`, `syn`, `refused`, `accept`, `connected`,
   * `dns-failed`, `timeout`, `send` (bytes left the sender), `deliver`
   * (bytes reached the receiver), `fin`, `rst`, `closed`, `reset`,
   * `partition`, `heal`; for UDP, `udp-listen`, `udp-send`, `udp-deliver`,
   * `udp-lost`, `udp-too-big`, `udp-unreachable` (`connection` is null).
   */
  readonly kind: string;
  /** The connection's id, or `null` for events before a connection exists. */
  readonly connection: number | null;
  readonly from: string;
  readonly to: string;
  /** Byte count, for `send` and `deliver`. */
  readonly bytes?: number;
}

/** Something that names a host: a {@link SimulatedHost}, a host name, or an address. */
export type HostReference = SimulatedHost | string;

function pairKey(a: SimulatedHost, b: SimulatedHost): string {
  return a.address < b.address ? `${a.address}|${b.address}` : `${b.address}|${a.address}`;
}

/**
 * The virtual network of one {@link SimulatedReactor} (`reactor.network`).
 *
 * @remarks
 * Hosts: the reactor's own host is `localhost` at 127.0.0.1; `addHost` (or
 * `reactor.host(name)`) adds more, at 10.0.0.1, 10.0.0.2… unless an address
 * is given. A name that no host has fails to resolve (DNSLookupError); an
 * address no host has never answers (the attempt times out).
 *
 * Partitions hold traffic rather than lose it, as TCP retransmits: while two
 * hosts are partitioned, segments between them (data, FIN, RST, window
 * updates, connection attempts) wait, and they arrive one latency after
 * {@link SimulatedNetwork.heal}, in order. An established connection stays
 * up across a partition (nothing is lost, nobody is told); a connection
 * attempt fails with TimeoutError if its timeout expires first. Use
 * {@link SimulatedConnection.reset} or {@link SimulatedNetwork.resetConnections}
 * to model a connection that a partition killed.
 */
// A ConnectionNetwork, checked structurally where a connection is given one:
// an `implements` of an internal interface would dangle in the published
// declarations.
export class SimulatedNetwork {
  /** The seed every random choice derives from; pass it back as `seed` to replay a run. */
  readonly seed: number;
  /** The generator connections draw their own seeds from. */
  readonly random: SeededRandom;
  /** Whether events are recorded in {@link SimulatedNetwork.events}. */
  tracing: boolean;
  readonly #reactor: SimulatedReactor;
  readonly #queue: TimerQueue;
  readonly #events: TraceEvent[] = [];
  readonly #hosts = new Map<string, SimulatedHost>();
  readonly #names = new Map<string, SimulatedHost>();
  readonly #ports = new Map<string, SimulatedPort>();
  readonly #usedPorts = new Map<SimulatedHost, Set<number>>();
  readonly #nextPort = new Map<SimulatedHost, number>();
  readonly #refused = new Set<string>();
  readonly #partitions = new Set<string>();
  readonly #healWaiters = new Map<string, (() => void)[]>();
  readonly #pairConditions = new Map<string, LinkConditions>();
  readonly #connections = new Set<SimulatedConnection<IAddress>>();
  #defaults: LinkConditions;
  #conditionsVersion = 0;
  #nextHostNumber = 1;
  #nextConnectionId = 1;
  /** The reactor's own host. */
  readonly localhost: SimulatedHost;
  /** @internal The UDP ports and datagrams; see {@link SimulatedNetwork.datagramStats}. */
  readonly datagrams: SimulatedDatagrams;

  /**
   * Built by the reactor.
   * @internal
   */
  constructor(
    reactor: SimulatedReactor,
    options: { seed: number; link: LinkConditions; trace: boolean; wake: () => void },
  ) {
    validateLinkConditions(options.link);
    this.#reactor = reactor;
    this.seed = options.seed >>> 0;
    this.random = new SeededRandom(this.seed);
    this.tracing = options.trace;
    this.#defaults = { ...options.link };
    this.#queue = new TimerQueue(() => reactor.seconds());
    this.#queue.onEarliestChanged = options.wake;
    this.localhost = new SimulatedHost(reactor, 'localhost', LOCALHOST_ADDRESS);
    this.#register(this.localhost);
    this.datagrams = new SimulatedDatagrams(this);
  }

  /**
   * What became of the UDP datagrams sent so far: sent, delivered, lost,
   * duplicated, reordered, too big for the MTU, unreachable (see
   * `loss`, `duplication`, `reorder` and `mtu` in {@link LinkConditions}).
   */
  get datagramStats(): Readonly<DatagramStats> {
    return { ...this.datagrams.stats };
  }

  // ---------------------------------------------------------------- hosts and names

  /**
   * Adds a host, or a name for an existing host.
   * @param name - what `connectTCP` may use to reach it (case-insensitive).
   * @param address - its IPv4 address; default the next free 10.0.0.x. If a
   *   host already has this address, `name` becomes another name for it.
   * @returns the host.
   * @throws Error if the name is taken by another host; TypeError for a bad
   *   name or an address that is not IPv4.
   */
  addHost(name: string, address?: string): SimulatedHost {
    if (typeof name !== 'string' || name === '' || isIP(name) !== 0) {
      throw new TypeError(
        `A host name must be a non-empty string that is not an address, got ${JSON.stringify(name)}`,
      );
    }
    const existing = this.#names.get(name.toLowerCase());
    if (address === undefined) {
      if (existing !== undefined) return existing;
      address = this.#freeAddress();
    }
    if (isIP(address) !== 4) throw new TypeError(`A host address must be IPv4, got ${address}`);
    const owner = this.#hosts.get(address);
    if (existing !== undefined && existing !== owner) {
      throw new Error(`The name ${name} already belongs to ${existing.toString()}`);
    }
    if (owner !== undefined) {
      owner._addName(name);
      this.#names.set(name.toLowerCase(), owner);
      return owner;
    }
    const host = new SimulatedHost(this.#reactor, name, address);
    this.#register(host);
    return host;
  }

  /** The host with this name or address, or `undefined`. */
  findHost(nameOrAddress: string): SimulatedHost | undefined {
    return this.#hosts.get(nameOrAddress) ?? this.#names.get(nameOrAddress.toLowerCase());
  }

  /** Every host, in the order they were added. */
  get hosts(): readonly SimulatedHost[] {
    return [...this.#hosts.values()];
  }

  #register(host: SimulatedHost): void {
    this.#hosts.set(host.address, host);
    this.#names.set(host.name.toLowerCase(), host);
    this.#usedPorts.set(host, new Set());
    this.#nextPort.set(host, FIRST_EPHEMERAL_PORT);
  }

  #freeAddress(): string {
    for (;;) {
      const n = this.#nextHostNumber++;
      const address = `10.0.${String(Math.floor(n / 254))}.${String((n % 254) + 1)}`;
      if (!this.#hosts.has(address)) return address;
    }
  }

  #host(ref: HostReference): SimulatedHost {
    if (ref instanceof SimulatedHost) return ref;
    const host = this.findHost(ref);
    if (host === undefined) throw new Error(`No simulated host is called ${ref}`);
    return host;
  }

  #hosts2(refs: HostReference | readonly HostReference[]): SimulatedHost[] {
    return (Array.isArray(refs) ? refs : [refs]).map((ref: HostReference) => this.#host(ref));
  }

  // ---------------------------------------------------------------- link conditions

  /** The network-wide conditions (what every link has unless set more specifically). */
  get defaultConditions(): LinkConditions {
    return { ...this.#defaults };
  }

  /**
   * Changes the network-wide conditions; fields left out keep their value.
   * @throws RangeError for an invalid value.
   */
  setDefaultConditions(conditions: LinkConditions): void {
    validateLinkConditions(conditions);
    this.#defaults = { ...this.#defaults, ...conditions };
    this.#conditionsVersion++;
  }

  /**
   * Sets the conditions of the link between two hosts, both directions
   * (fields left out fall back to the network's).
   * @throws RangeError for an invalid value; Error for an unknown host.
   */
  setLinkConditions(a: HostReference, b: HostReference, conditions: LinkConditions): void {
    validateLinkConditions(conditions);
    const key = pairKey(this.#host(a), this.#host(b));
    this.#pairConditions.set(key, { ...this.#pairConditions.get(key), ...conditions });
    this.#conditionsVersion++;
  }

  /** The conditions between two hosts now, every field resolved. */
  conditionsBetween(a: HostReference, b: HostReference): ResolvedLinkConditions {
    return resolveLinkConditions(...this.linkLayers(this.#host(a), this.#host(b)));
  }

  // ---------------------------------------------------------------- faults

  /**
   * Makes connection attempts to `host:port` fail with ConnectionRefusedError
   * (a firewall's REJECT), whether or not something listens there. Omit
   * `port` to refuse every port of the host.
   */
  refuse(host: HostReference, port?: number): void {
    this.#refused.add(`${this.#host(host).address}:${port === undefined ? '*' : String(port)}`);
  }

  /** Undoes {@link SimulatedNetwork.refuse} (with the same arguments). */
  allow(host: HostReference, port?: number): void {
    this.#refused.delete(`${this.#host(host).address}:${port === undefined ? '*' : String(port)}`);
  }

  /**
   * Cuts the path between every host of `a` and every host of `b`; traffic
   * between them is held until {@link SimulatedNetwork.heal}.
   * @throws Error for an unknown host.
   */
  partition(
    a: HostReference | readonly HostReference[],
    b: HostReference | readonly HostReference[],
  ): void {
    for (const x of this.#hosts2(a)) {
      for (const y of this.#hosts2(b)) {
        if (x === y) continue;
        this.#partitions.add(pairKey(x, y));
        this.record('partition', null, x.address, y.address);
      }
    }
  }

  /**
   * Heals partitions: between `a` and `b`, or every partition when called
   * without arguments. Held traffic arrives one latency later, in order.
   */
  heal(
    a?: HostReference | readonly HostReference[],
    b?: HostReference | readonly HostReference[],
  ): void {
    const keys: string[] = [];
    if (a === undefined || b === undefined) {
      keys.push(...this.#partitions);
    } else {
      for (const x of this.#hosts2(a)) for (const y of this.#hosts2(b)) keys.push(pairKey(x, y));
    }
    for (const key of keys) {
      if (!this.#partitions.delete(key)) continue;
      const [x, y] = key.split('|') as [string, string];
      this.record('heal', null, x, y);
      const waiters = this.#healWaiters.get(key) ?? [];
      this.#healWaiters.delete(key);
      for (const waiter of waiters) waiter();
    }
  }

  /** True while traffic between the two hosts is held. */
  isPartitioned(a: HostReference, b: HostReference): boolean {
    return this.#partitions.has(pairKey(this.#host(a), this.#host(b)));
  }

  /** The connections (TCP and UNIX) that are not closed at both ends, oldest first. */
  get connections(): readonly SimulatedConnection<IAddress>[] {
    return [...this.#connections];
  }

  /**
   * Resets every open connection, or only those between `a` and `b`: both
   * ends of each get ConnectionLost.
   * @returns how many connections were reset.
   */
  resetConnections(a?: HostReference, b?: HostReference): number {
    const key = a === undefined || b === undefined ? null : pairKey(this.#host(a), this.#host(b));
    let count = 0;
    for (const connection of [...this.#connections]) {
      if (key !== null && pairKey(connection.clientHost, connection.serverHost) !== key) continue;
      connection.reset();
      count++;
    }
    return count;
  }

  /** The events recorded while {@link SimulatedNetwork.tracing} was on, oldest first. */
  get events(): readonly TraceEvent[] {
    return this.#events;
  }

  /** Each recorded event as one line, e.g. `0.010 deliver #1 127.0.0.1:49152 -> 127.0.0.1:8000 5`. */
  formatEvents(): string[] {
    return this.#events.map(
      (e) =>
        `${e.time.toFixed(6)} ${e.kind} ${e.connection === null ? '-' : `#${String(e.connection)}`} ${e.from} -> ${e.to}${e.bytes === undefined ? '' : ` ${String(e.bytes)}`}`,
    );
  }

  // ---------------------------------------------------------------- for the reactor, ports, connectors and connections

  /** @internal */
  now(): number {
    return this.#reactor.seconds();
  }

  /** @internal Schedules a network event (not visible in `getDelayedCalls()`). */
  schedule<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    return this.#queue.schedule(delaySeconds, fn, args);
  }

  /** @internal When the next network event is due. */
  nextEventTime(): number | undefined {
    return this.#queue.nextTime();
  }

  /** @internal Runs the network events due now. */
  runDue(): number {
    return this.#queue.runDue((error) => {
      // Network events guard user code themselves; this is a Torsion bug.
      log.failure('Internal error in a simulated network event', error, {}, 'critical');
    });
  }

  /** @internal */
  get conditionsVersion(): number {
    return this.#conditionsVersion;
  }

  /** @internal */
  linkLayers(a: SimulatedHost, b: SimulatedHost): readonly (LinkConditions | undefined)[] {
    return [this.#pairConditions.get(pairKey(a, b)), this.#defaults];
  }

  /** @internal */
  reachable(a: SimulatedHost, b: SimulatedHost): boolean {
    return a === b || this.#partitions.size === 0 || !this.#partitions.has(pairKey(a, b));
  }

  /** @internal */
  whenReachable(a: SimulatedHost, b: SimulatedHost, fn: () => void): void {
    if (this.reachable(a, b)) {
      fn();
      return;
    }
    const key = pairKey(a, b);
    const waiters = this.#healWaiters.get(key);
    if (waiters === undefined) this.#healWaiters.set(key, [fn]);
    else waiters.push(fn);
  }

  /**
   * Sends a control message (SYN, the RST refusing one) from `a` to `b`:
   * `fn` runs one latency later, or one latency after a partition heals.
   * @internal
   */
  sendControl(a: SimulatedHost, b: SimulatedHost, fn: () => void): void {
    const latency = this.conditionsBetween(a, b).latency;
    this.schedule(latency, () => {
      if (this.reachable(a, b)) fn();
      else this.whenReachable(a, b, () => this.sendControl(a, b, fn));
    });
  }

  /** @internal */
  record(
    kind: string,
    connection: SimulatedConnection<IAddress> | null,
    from: IAddress | string,
    to: IAddress | string,
    bytes?: number,
  ): void {
    if (!this.tracing) return;
    const event: TraceEvent = {
      time: this.now(),
      kind,
      connection: connection === null ? null : connection.id,
      from: typeof from === 'string' ? from : from.toString(),
      to: typeof to === 'string' ? to : to.toString(),
      ...(bytes === undefined ? {} : { bytes }),
    };
    this.#events.push(event);
  }

  /** @internal */
  forkSeed(): number {
    return this.random.fork();
  }

  /** @internal */
  nextConnectionId(): number {
    return this.#nextConnectionId++;
  }

  /** @internal */
  connectionOpened(connection: SimulatedConnection<IAddress>): void {
    this.#connections.add(connection);
  }

  /** @internal */
  connectionClosed(connection: SimulatedConnection<IAddress>): void {
    this.#connections.delete(connection);
    // A UNIX client's end has no port to give back.
    const local = connection.client.getHost();
    if (local.type !== 'UNIX') this.releasePort(connection.clientHost, local.port);
  }

  /** @internal The host a name or address resolves to, or `undefined` (DNS failure). */
  resolve(name: string): { address: string; host: SimulatedHost | undefined } | undefined {
    if (isIP(name) !== 0) return { address: name, host: this.#hosts.get(name) };
    const host = this.#names.get(name.toLowerCase());
    return host === undefined ? undefined : { address: host.address, host };
  }

  /** @internal */
  isRefused(host: SimulatedHost, port: number): boolean {
    return (
      this.#refused.size > 0 &&
      (this.#refused.has(`${host.address}:${String(port)}`) ||
        this.#refused.has(`${host.address}:*`))
    );
  }

  /** @internal */
  portAt(host: SimulatedHost, port: number): SimulatedPort | undefined {
    return this.#ports.get(`${host.address}:${String(port)}`);
  }

  /** @internal Registers a listening port; false if the number is taken. */
  bindPort(host: SimulatedHost, port: number, listening: SimulatedPort): boolean {
    const used = this.#used(host);
    if (used.has(port)) return false;
    used.add(port);
    this.#ports.set(`${host.address}:${String(port)}`, listening);
    return true;
  }

  /** @internal */
  unbindPort(host: SimulatedHost, port: number): void {
    this.#ports.delete(`${host.address}:${String(port)}`);
    this.releasePort(host, port);
  }

  /** @internal A free ephemeral port of `host`, or `undefined` if all are taken. */
  allocatePort(host: SimulatedHost): number | undefined {
    const used = this.#used(host);
    let candidate = this.#nextPort.get(host) ?? FIRST_EPHEMERAL_PORT;
    const range = LAST_EPHEMERAL_PORT - FIRST_EPHEMERAL_PORT + 1;
    for (let i = 0; i < range; i++) {
      const port = candidate;
      candidate = candidate === LAST_EPHEMERAL_PORT ? FIRST_EPHEMERAL_PORT : candidate + 1;
      if (!used.has(port)) {
        used.add(port);
        this.#nextPort.set(host, candidate);
        return port;
      }
    }
    return undefined;
  }

  /** @internal Reserves a specific port (a client's `bindAddress`); false if taken. */
  reservePort(host: SimulatedHost, port: number): boolean {
    const used = this.#used(host);
    if (used.has(port)) return false;
    used.add(port);
    return true;
  }

  #used(host: SimulatedHost): Set<number> {
    const used = this.#usedPorts.get(host);
    if (used === undefined) throw new Error(`${host.toString()} is not on this network`);
    return used;
  }

  /** @internal */
  releasePort(host: SimulatedHost, port: number): void {
    if (!this.#ports.has(`${host.address}:${String(port)}`))
      this.#usedPorts.get(host)?.delete(port);
  }
}
