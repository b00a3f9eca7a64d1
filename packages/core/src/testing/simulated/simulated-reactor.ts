/**
 * `SimulatedReactor`: a complete reactor whose TCP is an in-memory network
 * and whose clock is virtual. `listenTCP` and `connectTCP` connect protocols
 * through a {@link SimulatedNetwork} with configurable latency, bandwidth,
 * chunking, partitions and resets; time starts at 0 and moves only when the
 * simulation moves it, so an hour of timeouts takes milliseconds and every
 * run with the same seed repeats exactly.
 *
 * Tests: test/testing/simulated/simulated-reactor.test.ts and the conformance suite
 * (packages/reactor-conformance/test/simulated-reactor.conformance.test.ts)
 * @module
 */
import { isIP } from 'node:net';
import { fail, succeed, type Deferred } from '../../deferred.js';
import { DNSLookupError } from '../../errors.js';
import type {
  AdoptedSocketFamily,
  ConnectSSLOptions,
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IClientFactory,
  IDatagramProtocol,
  IReactorUDP,
  IReactorUNIX,
  INameResolver,
  ResolvedAddress,
  IProtocolFactory,
  IReactorSSL,
  ITLSReactor,
  ListenSSLOptions,
  ListenTCPOptions,
  ListenUDPOptions,
  ListenUNIXOptions,
} from '../../interfaces.js';
import { checkListenUDP } from '../../reactor-kit/base-udp-port.js';
import {
  checkTLSOptions,
  type ClientTLSOptions,
  type ServerTLSOptions,
} from '../../tls-options.js';
import {
  checkConnectUNIX,
  checkListenUNIX,
  checkWriteHighWaterMark,
} from '../../reactor-kit/argument-checks.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from '../../reactor-kit/base-transport.js';
import { ReactorBase } from '../../reactor-kit/reactor-base.js';
import type { ReactorBaseOptions } from '../../reactor-kit/reactor-base.js';
import { SeededRandom } from '../seeded-random.js';
import { SimulatedConnector } from './simulated-connector.js';
import type { SimulatedHost } from './simulated-host.js';
import type { LinkConditions } from './simulated-link.js';
import { SimulatedNetwork } from './simulated-network.js';
import { SimulatedPort } from './simulated-port.js';
import { SimulatedSSLConnector } from './simulated-ssl-connector.js';
import { SimulatedSSLPort } from './simulated-ssl-port.js';
import { SimulatedUDPPort } from './simulated-udp-port.js';
import { SimulatedUNIXConnector } from './simulated-unix-connector.js';
import { SimulatedUNIXPort } from './simulated-unix-port.js';
import { SimulatedProcesses } from './simulated-processes.js';
import type { FakeProcessTransport } from '../fake-process.js';
import { checkSpawnProcess } from '../../process/spawn-checks.js';
import type { IProcessProtocol, IReactorProcess, SpawnProcessOptions } from '../../interfaces.js';

/** Rounds at one instant after which a manual drive decides something reschedules itself with delay 0 forever. */
const MAX_ROUNDS_PER_INSTANT = 100_000;
/** Rounds one `runUntilIdle()` may take before it decides the simulation never goes idle. */
const DEFAULT_MAX_ROUNDS = 10_000_000;

/** Options for {@link SimulatedReactor}. */
export interface SimulatedReactorOptions extends ReactorBaseOptions {
  /**
   * Jump virtual time to the next event whenever nothing is due and the
   * event loop has gone a full turn without work, so tests can simply
   * `await` Deferreds. Default true. With false, time moves only through
   * {@link SimulatedReactor.advance}, {@link SimulatedReactor.pump},
   * {@link SimulatedReactor.flush} and {@link SimulatedReactor.runUntilIdle}.
   */
  autoAdvance?: boolean;
  /**
   * Seed of every random choice (chunk boundaries, jitter,
   * {@link SimulatedReactor.random}). Default: the `TORSION_SIMULATION_SEED`
   * environment variable if set, else a random seed; read it back from
   * {@link SimulatedReactor.seed} to replay a run.
   */
  seed?: number;
  /** Network-wide link conditions. Default: no latency, unlimited bandwidth, no chunking. */
  link?: LinkConditions;
  /** Record every network event in `network.events` (for determinism checks and debugging). Default false. */
  trace?: boolean;
  /** Write high-water mark of every transport, in bytes. Default 64 KiB. */
  writeHighWaterMark?: number;
}

/** Options for {@link SimulatedReactor.runUntilIdle}. */
export interface RunUntilIdleOptions {
  /** Do not run events more than this many virtual seconds ahead. Default: no limit. */
  maxSeconds?: number;
  /** Give up (throwing) after this many rounds of events. Default 10,000,000. */
  maxRounds?: number;
}

function defaultSeed(): number {
  const fromEnvironment = process.env.TORSION_SIMULATION_SEED;
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    const seed = Number(fromEnvironment);
    if (Number.isFinite(seed)) return seed >>> 0;
  }
  return SeededRandom.randomSeed();
}

/**
 * A reactor for tests: real protocol code, a virtual network, virtual time.
 *
 * @example
 * ```ts
 * const reactor = new SimulatedReactor({ link: { latency: 0.05, chunking: true } });
 * reactor.listenTCP(8007, new EchoFactory());
 * const reply = await echo('ping', { host: '127.0.0.1', port: 8007, reactor });
 * // reply is 'ping'; reactor.seconds() is 0.2 (two round trips)
 * ```
 *
 * @remarks
 * - Time: `seconds()` starts at 0. In the default auto-advance mode the
 *   reactor runs what is due on each turn of Node's event loop (after
 *   microtasks, in `setImmediate`) and, once a full turn passed with nothing
 *   due, jumps to the next event (a delayed call or a network event). With
 *   `autoAdvance: false` nothing runs until the test calls `advance()`,
 *   `pump()`, `flush()` or `runUntilIdle()`.
 * - Network: the reactor's own host is `localhost`, 127.0.0.1;
 *   `reactor.host(name)` adds hosts (10.0.0.x) and gives an IReactor view
 *   that listens and connects from that host. Faults: see {@link SimulatedNetwork}.
 * - Transports behave as the TCP transport (see {@link SimulatedTransport}).
 * - UNIX sockets (`listenUNIX`, `connectUNIX`) live in each host's own
 *   files (`host.unixFiles`): a client reaches only its own host's paths,
 *   under the host's link conditions with itself (as a TCP connection to its
 *   own address; a partition never separates a host from itself).
 * - TLS (`listenSSL`, `connectSSL`, `startTLS`) is real TLS: Node's TLS
 *   engine runs in memory at each end and its records cross the simulated
 *   network. The engine works by ticks of Node's event loop, so TLS needs
 *   the auto-advancing mode (or a test that yields, e.g. `await`s, between
 *   its `advance()` calls): a synchronous `runUntilIdle()` cannot move a
 *   handshake on.
 * - Signal handlers are not installed unless asked for.
 * - A forgotten repeating call (a `LoopingCall` never stopped) keeps an
 *   auto-advancing reactor busy, as it would keep a real reactor alive: stop
 *   the reactor, or set `autoAdvance = false`, when a test ends.
 */
export class SimulatedReactor
  extends ReactorBase
  implements ITLSReactor, IReactorSSL, IReactorUDP, IReactorUNIX, IReactorProcess
{
  /** The virtual network: hosts, ports, connections, faults. */
  readonly network: SimulatedNetwork;
  /**
   * A seeded source of numbers in [0, 1), e.g. for a
   * ReconnectingClientFactory's `random`, so its jitter repeats with the seed too.
   */
  readonly random: () => number;
  readonly #highWaterMark: number;
  #now = 0;
  #autoAdvance: boolean;
  #tickScheduled = false;
  /** The last turn found nothing due; the next may jump. */
  #quietTurn = false;
  #processes: SimulatedProcesses | null = null;

  /**
   * @param options - see {@link SimulatedReactorOptions}.
   * @throws RangeError for an invalid option.
   */
  constructor(options: SimulatedReactorOptions = {}) {
    super({
      installSignalHandlers: options.installSignalHandlers ?? false,
      ...(options.shutdownGracePeriod === undefined
        ? {}
        : { shutdownGracePeriod: options.shutdownGracePeriod }),
    });
    const hwm = checkWriteHighWaterMark(
      options.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK,
    );
    this.#highWaterMark = hwm;
    this.#autoAdvance = options.autoAdvance ?? true;
    const seed = options.seed ?? defaultSeed();
    this.network = new SimulatedNetwork(this, {
      seed,
      link: options.link ?? {},
      trace: options.trace ?? false,
      wake: () => {
        this.#wake();
      },
    });
    const random = new SeededRandom((this.network.seed ^ 0x9e3779b9) >>> 0);
    this.random = () => random.next();
  }

  /** The seed of this run (see {@link SimulatedReactorOptions.seed}). */
  get seed(): number {
    return this.network.seed;
  }

  /**
   * The scripted child processes: `processes.define(executable, script)`
   * says what a child started as `executable` does; `processes.started`
   * lists every child. See docs/processes.md.
   */
  get processes(): SimulatedProcesses {
    return (this.#processes ??= new SimulatedProcesses(this, this.#highWaterMark));
  }

  /**
   * Starts the scripted child defined for `executable` and connects
   * `processProtocol` to it; an executable with no script fails to start
   * (ProcessSpawnError, ENOENT, on a later turn), as a missing one would.
   * @throws TypeError / RangeError for bad arguments, as every reactor.
   * @throws ReactorNotRestartable once stopped.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[] = [],
    options: SpawnProcessOptions = {},
  ): FakeProcessTransport {
    checkSpawnProcess(processProtocol, executable, args, options);
    this.checkOpen();
    return this.processes.spawn(processProtocol, executable, args, options);
  }

  /** Virtual seconds since the reactor was made. */
  seconds(): number {
    return this.#now;
  }

  /** Whether virtual time jumps on its own; may be changed at any time. */
  get autoAdvance(): boolean {
    return this.#autoAdvance;
  }

  set autoAdvance(enabled: boolean) {
    this.#autoAdvance = enabled;
    if (enabled) this.#wake();
  }

  /** The reactor's own host: `localhost`, 127.0.0.1. */
  get localhost(): SimulatedHost {
    return this.network.localhost;
  }

  /**
   * The host with this name or address; a name no host has yet is added
   * (at the next free 10.0.0.x address).
   */
  host(nameOrAddress: string): SimulatedHost {
    return this.network.findHost(nameOrAddress) ?? this.network.addHost(nameOrAddress);
  }

  // ---------------------------------------------------------------- driving time by hand

  /**
   * Moves time forward by `seconds`, running every event and delayed call
   * due on the way, each at its own time (so a reply to a packet arriving
   * within the window arrives within it too).
   * @throws RangeError if `seconds` is negative or not finite.
   * @throws Error if calls keep rescheduling themselves at one instant (a `callLater(0)` loop).
   */
  advance(seconds: number): void {
    if (typeof seconds !== 'number' || !(seconds >= 0) || seconds === Infinity) {
      throw new RangeError(
        `advance() needs a finite number of seconds >= 0, got ${String(seconds)}`,
      );
    }
    const target = this.#now + seconds;
    this.#runUntil(target, DEFAULT_MAX_ROUNDS);
    if (this.#now < target) this.#now = target;
  }

  /** Advances by each amount in turn: `pump([1, 1, 1])` is three `advance(1)` calls. */
  pump(timings: Iterable<number>): void {
    for (const seconds of timings) this.advance(seconds);
  }

  /**
   * Runs everything due now, including what that schedules for now, without moving time.
   * @returns how many events and calls ran.
   */
  flush(): number {
    return this.#runUntil(this.#now, DEFAULT_MAX_ROUNDS);
  }

  /**
   * Runs the simulation until nothing is scheduled at all (no delayed call,
   * nothing on the network), jumping from event to event.
   * @returns how many events and calls ran.
   * @throws Error if still busy after `maxRounds` rounds (something repeats forever).
   */
  runUntilIdle(options: RunUntilIdleOptions = {}): number {
    const limit = options.maxSeconds === undefined ? Infinity : this.#now + options.maxSeconds;
    const maxRounds = options.maxRounds ?? DEFAULT_MAX_ROUNDS;
    const ran = this.#runUntil(limit, maxRounds);
    const next = this.#nextEventTime();
    if (limit === Infinity && next !== undefined) {
      throw new Error(
        `runUntilIdle(): still busy after ${String(maxRounds)} rounds; does something repeat forever?`,
      );
    }
    return ran;
  }

  #nextEventTime(): number | undefined {
    if (this.stopped) return undefined;
    const network = this.network.nextEventTime();
    const calls = this.nextDelayedCallTime();
    if (network === undefined) return calls;
    if (calls === undefined) return network;
    return Math.min(network, calls);
  }

  /** One round: the network events due now, then the delayed calls due now. */
  #round(): number {
    return this.network.runDue() + this.runDueCalls();
  }

  #runUntil(limit: number, maxRounds: number): number {
    let ran = 0;
    let sameInstant = 0;
    for (let round = 0; round < maxRounds; round++) {
      const next = this.#nextEventTime();
      if (next === undefined || next > limit) return ran;
      if (next > this.#now) {
        this.#now = next;
        sameInstant = 0;
      } else if (++sameInstant > MAX_ROUNDS_PER_INSTANT) {
        throw new Error(
          `SimulatedReactor ran ${String(MAX_ROUNDS_PER_INSTANT)} rounds at ${String(this.#now)} s and more keep ` +
            'arriving: a call probably reschedules itself with delay 0',
        );
      }
      ran += this.#round();
    }
    return ran;
  }

  // ---------------------------------------------------------------- auto-advance

  /** Called whenever something was scheduled: makes sure a turn will look at it. */
  protected override armTimer(nextTime: number | undefined): void {
    if (nextTime !== undefined) this.#wake();
  }

  #wake(): void {
    if (!this.#autoAdvance || this.#tickScheduled || this.stopped) return;
    this.#tickScheduled = true;
    setImmediate(this.#tick);
  }

  readonly #tick = (): void => {
    this.#tickScheduled = false;
    if (!this.#autoAdvance) return;
    const next = this.#nextEventTime();
    if (next === undefined) {
      this.#quietTurn = false;
      return;
    }
    if (next > this.#now) {
      // Nothing is due: wait one more turn, so work queued elsewhere in the
      // event loop (other immediates, I/O) runs before time jumps.
      if (!this.#quietTurn) {
        this.#quietTurn = true;
        this.#wake();
        return;
      }
      this.#now = next;
    }
    this.#quietTurn = false;
    this.#round();
    this.#wake();
  };

  // ---------------------------------------------------------------- TCP

  /**
   * Listens on the reactor's own host (127.0.0.1). See {@link SimulatedHost.listenTCP}.
   * @throws RangeError, TypeError for bad arguments; ReactorNotRestartable once stopped.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): SimulatedPort {
    return this._listenTCP(this.localhost, port, factory, options);
  }

  /**
   * Connects from the reactor's own host. See {@link SimulatedHost.connectTCP}.
   * @throws RangeError, TypeError for bad arguments; ReactorNotRestartable once stopped.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions = {},
  ): SimulatedConnector {
    return this._connectTCP(this.localhost, host, port, factory, options);
  }

  // ---------------------------------------------------------------- endpoints

  /**
   * Name resolution through the network's hosts (IReactorPluggableNameResolver):
   * a host's names resolve to its address, an IP literal to itself, any
   * other name fails with DNSLookupError; the answer is immediate. A
   * `HostnameEndpoint` on this reactor uses it unless given a resolver.
   */
  get nameResolver(): INameResolver {
    const network = this.network;
    return {
      resolveHostName(name: string): Deferred<readonly ResolvedAddress[]> {
        const resolved = network.resolve(name);
        if (resolved === undefined) {
          return fail(
            new DNSLookupError(`DNS lookup failed for ${name}: no simulated host has that name`),
          );
        }
        return succeed([
          { address: resolved.address, family: isIP(resolved.address) === 6 ? 6 : 4 },
        ]);
      },
    };
  }

  /**
   * A simulated network has no file descriptors to inherit, so it cannot
   * adopt one (a `systemd:` endpoint); test such code on a MemoryReactor,
   * which records the call.
   * @throws Error always, naming the capability `adoptStreamPort`.
   */
  adoptStreamPort(fd: number, family: AdoptedSocketFamily, factory: IProtocolFactory): never {
    void factory;
    throw new Error(
      `SimulatedReactor cannot adopt descriptor ${String(fd)} (${family}): a simulated network has no file descriptors (capability adoptStreamPort); use a MemoryReactor to test code that adopts sockets`,
    );
  }

  // ---------------------------------------------------------------- TLS

  /**
   * Listens with TLS on the reactor's own host. See {@link SimulatedHost.listenSSL}.
   * @throws RangeError, TypeError for bad arguments; ReactorNotRestartable once stopped.
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions: ListenSSLOptions = {},
  ): SimulatedSSLPort {
    return this._listenSSL(this.localhost, port, factory, options, listenOptions);
  }

  /**
   * Connects with TLS from the reactor's own host. See {@link SimulatedHost.connectSSL}.
   * @throws RangeError, TypeError for bad arguments; ReactorNotRestartable once stopped.
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions: ConnectSSLOptions = {},
  ): SimulatedSSLConnector {
    return this._connectSSL(this.localhost, host, port, factory, options, connectOptions);
  }

  /** @internal listenSSL on a given host. */
  _listenSSL(
    host: SimulatedHost,
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions: ListenSSLOptions,
  ): SimulatedSSLPort {
    const { backlog, iface } = this.checkListenTCP(port, factory, listenOptions);
    checkTLSOptions(options, 'server');
    this.checkOpen();
    const listening = new SimulatedSSLPort(this.network, this.openResources, host, port, factory, {
      iface,
      backlog,
      highWaterMark: this.#highWaterMark,
    });
    listening.setTLSOptions(options);
    listening.startListening();
    return listening;
  }

  /** @internal connectSSL from a given host. */
  _connectSSL(
    from: SimulatedHost,
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions: ConnectSSLOptions,
  ): SimulatedSSLConnector {
    const checked = this.checkConnectTCP(host, port, factory, connectOptions);
    checkTLSOptions(options, 'client');
    this.checkOpen();
    const connector = new SimulatedSSLConnector(
      this.network,
      this.openResources,
      factory,
      {
        from,
        host,
        port,
        timeout: checked.timeout,
        reactor: this,
        ...(checked.bindAddress === undefined ? {} : { bindAddress: checked.bindAddress }),
      },
      options,
    );
    connector.connect();
    return connector;
  }

  /**
   * A UDP port on the reactor's own host (127.0.0.1). See {@link SimulatedHost.listenUDP}.
   * @throws RangeError, TypeError, InvalidAddressError for bad arguments; ReactorNotRestartable once stopped.
   */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenUDPOptions = {},
  ): SimulatedUDPPort {
    return this._listenUDP(this.localhost, port, protocol, options);
  }

  /** @internal listenUDP on a given host. */
  _listenUDP(
    host: SimulatedHost,
    port: number,
    protocol: IDatagramProtocol,
    options: ListenUDPOptions,
  ): SimulatedUDPPort {
    const checked = checkListenUDP(port, protocol, options);
    this.checkOpen();
    const listening = new SimulatedUDPPort(
      this.network,
      this.openResources,
      host,
      port,
      protocol,
      checked,
    );
    listening.startListening();
    return listening;
  }

  /** @internal listenTCP on a given host. */
  _listenTCP(
    host: SimulatedHost,
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions,
  ): SimulatedPort {
    const { backlog, iface } = this.checkListenTCP(port, factory, options);
    this.checkOpen();
    const listening = new SimulatedPort(this.network, this.openResources, host, port, factory, {
      iface,
      backlog,
      highWaterMark: this.#highWaterMark,
    });
    listening.startListening();
    return listening;
  }

  /** @internal connectTCP from a given host. */
  _connectTCP(
    from: SimulatedHost,
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions,
  ): SimulatedConnector {
    const checked = this.checkConnectTCP(host, port, factory, options);
    this.checkOpen();
    const connector = new SimulatedConnector(this.network, this.openResources, factory, {
      from,
      host,
      port,
      timeout: checked.timeout,
      reactor: this,
      ...(checked.bindAddress === undefined ? {} : { bindAddress: checked.bindAddress }),
    });
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- UNIX

  /**
   * Listens on the UNIX socket `path` of the reactor's own host. See
   * {@link SimulatedHost.listenUNIX}.
   * @throws RangeError, TypeError for bad arguments; ReactorNotRestartable once stopped.
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ): SimulatedUNIXPort {
    return this._listenUNIX(this.localhost, path, factory, options);
  }

  /**
   * Connects to the UNIX socket `path` of the reactor's own host. See
   * {@link SimulatedHost.connectUNIX}.
   * @throws RangeError, TypeError for bad arguments; ReactorNotRestartable once stopped.
   */
  connectUNIX(
    path: string,
    factory: IClientFactory,
    options: ConnectUNIXOptions = {},
  ): SimulatedUNIXConnector {
    return this._connectUNIX(this.localhost, path, factory, options);
  }

  /** @internal listenUNIX on a given host. */
  _listenUNIX(
    host: SimulatedHost,
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions,
  ): SimulatedUNIXPort {
    const checked = checkListenUNIX(path, factory, options);
    this.checkOpen();
    const listening = new SimulatedUNIXPort(this.network, this.openResources, host, path, factory, {
      ...checked,
      highWaterMark: this.#highWaterMark,
    });
    listening.startListening();
    return listening;
  }

  /** @internal connectUNIX from a given host, to a path of that host. */
  _connectUNIX(
    from: SimulatedHost,
    path: string,
    factory: IClientFactory,
    options: ConnectUNIXOptions,
  ): SimulatedUNIXConnector {
    const { timeout, checkPID } = checkConnectUNIX(path, factory, options);
    this.checkOpen();
    const connector = new SimulatedUNIXConnector(this.network, this.openResources, factory, {
      from,
      path,
      timeout,
      checkPID,
      reactor: this,
    });
    connector.connect();
    return connector;
  }
}
