/**
 * `SimulatedHost`: one virtual machine on a {@link SimulatedNetwork}, seen as
 * a complete reactor. Its `listenTCP` binds on the host's address and its
 * `connectTCP` connects from it; time and lifecycle are the simulated
 * reactor's, shared by every host.
 *
 * Tests: test/testing/simulated/simulated-network.test.ts, test/process/simulated-process.test.ts
 * @module
 */
import type {
  ConnectSSLOptions,
  ConnectTCPOptions,
  ConnectUNIXOptions,
  ISSLListeningPort,
  ListenSSLOptions,
  IClientFactory,
  IDelayedCall,
  IListeningPort,
  IDatagramProtocol,
  IProcessProtocol,
  IProtocolFactory,
  IReactorProcess,
  IReactorUDP,
  IReactorUNIX,
  IUDPPort,
  ITLSReactor,
  ListenTCPOptions,
  ListenUDPOptions,
  ListenUNIXOptions,
  SpawnProcessOptions,
  SystemEventPhase,
  SystemEventTriggerId,
  SystemEventType,
} from '../../interfaces.js';
import type { ClientTLSOptions, ServerTLSOptions } from '../../tls-options.js';
import type { FakeProcessTransport } from '../fake-process.js';
import type { SimulatedConnector } from './simulated-connector.js';
import type { SimulatedReactor } from './simulated-reactor.js';
import type { SimulatedUNIXConnector } from './simulated-unix-connector.js';
import { SimulatedUNIXFiles } from './simulated-unix-files.js';
import type { SimulatedUNIXPort } from './simulated-unix-port.js';

/**
 * A virtual host: a name (and aliases), one IPv4 address, and an IReactor
 * view that listens and connects from that address. Get one with
 * `reactor.host(name)` or `reactor.network.addHost(name, address)`.
 *
 * @example
 * ```ts
 * const server = reactor.host('server'); // 10.0.0.1, resolvable as 'server'
 * server.listenTCP(79, new FingerFactory({ reactor: server }));
 * reactor.host('client').connectTCP('server', 79, clientFactory);
 * ```
 */
export class SimulatedHost implements ITLSReactor, IReactorUDP, IReactorUNIX, IReactorProcess {
  /** The first name the host was given. */
  readonly name: string;
  /** Its IPv4 address. */
  readonly address: string;
  /** Its UNIX socket files: look at them, or leave stale sockets and files in the way. */
  readonly unixFiles: SimulatedUNIXFiles;
  readonly #reactor: SimulatedReactor;
  readonly #names: string[];

  /** @internal Built by the network. */
  constructor(reactor: SimulatedReactor, name: string, address: string) {
    this.#reactor = reactor;
    this.name = name;
    this.address = address;
    this.#names = [name];
    this.unixFiles = new SimulatedUNIXFiles(this);
  }

  /** Every name that resolves to this host. */
  get names(): readonly string[] {
    return this.#names;
  }

  /** @internal */
  _addName(name: string): void {
    if (!this.#names.includes(name)) this.#names.push(name);
  }

  /** The simulated reactor this host belongs to. */
  get reactor(): SimulatedReactor {
    return this.#reactor;
  }

  // ---------------------------------------------------------------- TCP from this host

  /**
   * Listens on this host. The interface may be omitted, `''`, `'0.0.0.0'`,
   * `'::'` or the host's address; any other makes `whenListening()` fail
   * with CannotListenError (EADDRNOTAVAIL).
   * @throws as `IReactorTCP.listenTCP` (RangeError, TypeError, ReactorNotRestartable).
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): IListeningPort {
    return this.#reactor._listenTCP(this, port, factory, options);
  }

  /**
   * A UDP port on this host. The interface may be omitted, `'0.0.0.0'`,
   * `'::'` or the host's address; any other fails the bind (EADDRNOTAVAIL),
   * and an IPv6 one too (EAFNOSUPPORT): the simulated network is IPv4 only.
   * Datagrams meet the link's `loss`, `duplication`, `reorder` and `mtu`.
   * @throws as `IReactorUDP.listenUDP`.
   */
  listenUDP(port: number, protocol: IDatagramProtocol, options: ListenUDPOptions = {}): IUDPPort {
    return this.#reactor._listenUDP(this, port, protocol, options);
  }

  /**
   * Connects from this host to `host` (a host name, an alias, or an address).
   * @throws as `IReactorTCP.connectTCP`.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions = {},
  ): SimulatedConnector {
    return this.#reactor._connectTCP(this, host, port, factory, options);
  }

  // ---------------------------------------------------------------- UNIX on this host

  /**
   * Listens on the UNIX socket `path` in this host's files
   * ({@link SimulatedHost.unixFiles}): a stale socket file is replaced, a
   * live one or a plain file never is (CannotListenError, EADDRINUSE);
   * `mode` is the file's from the start (recorded, not enforced); `wantPID`
   * holds `<path>.lock` while listening. `stopListening()` removes the file
   * and the lock only while they are still this port's. An abstract name
   * (`'\0name'`) has no file.
   * @throws as `IReactorUNIX.listenUNIX`.
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ): SimulatedUNIXPort {
    return this.#reactor._listenUNIX(this, path, factory, options);
  }

  /**
   * Connects to the UNIX socket `path` of this same host (a UNIX socket is
   * not reachable from another machine): a missing or stale file is a
   * ConnectionRefusedError (cause ENOENT or ECONNREFUSED), and so is
   * `checkPID` without a live `<path>.lock`.
   * @throws as `IReactorUNIX.connectUNIX`.
   */
  connectUNIX(
    path: string,
    factory: IClientFactory,
    options: ConnectUNIXOptions = {},
  ): SimulatedUNIXConnector {
    return this.#reactor._connectUNIX(this, path, factory, options);
  }

  // ---------------------------------------------------------------- TLS from this host

  /**
   * Listens with TLS on this host: each connection's protocol is built and
   * connected once its handshake completed; a failed handshake is logged on
   * `torsion.tls` and costs only that connection. As {@link SimulatedHost.listenTCP} otherwise.
   * @throws as `IReactorSSL.listenSSL`.
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions: ListenSSLOptions = {},
  ): ISSLListeningPort {
    return this.#reactor._listenSSL(this, port, factory, options, listenOptions);
  }

  /**
   * Connects with TLS from this host: the protocol is connected once the
   * handshake completed; a failed one reaches `clientConnectionFailed` as a TLSError.
   * @throws as `IReactorSSL.connectSSL`.
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions: ConnectSSLOptions = {},
  ): SimulatedConnector {
    return this.#reactor._connectSSL(this, host, port, factory, options, connectOptions);
  }

  // ---------------------------------------------------------------- child processes on this host

  /**
   * Starts a scripted child, as the simulated reactor's `spawnProcess`: the
   * scripts (`reactor.processes.define`) and the list of children started
   * are the simulation's, shared by every host, so a program given a host
   * as its reactor can run and supervise children too.
   * @throws as `IReactorProcess.spawnProcess`.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[] = [],
    options: SpawnProcessOptions = {},
  ): FakeProcessTransport {
    return this.#reactor.spawnProcess(processProtocol, executable, args, options);
  }

  // ---------------------------------------------------------------- the reactor's time and lifecycle

  /** The simulation's virtual time. */
  seconds(): number {
    return this.#reactor.seconds();
  }

  /** Schedules on the simulated reactor. */
  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    return this.#reactor.callLater(delaySeconds, fn, ...args);
  }

  /** The simulated reactor's pending calls (every host's). */
  getDelayedCalls(): IDelayedCall[] {
    return this.#reactor.getDelayedCalls();
  }

  /** Whether the simulated reactor is running. */
  get running(): boolean {
    return this.#reactor.running;
  }

  /** Runs the simulated reactor (all hosts share one lifecycle). */
  run(): Promise<void> {
    return this.#reactor.run();
  }

  /** Stops the simulated reactor. */
  stop(): void {
    this.#reactor.stop();
  }

  /** See `IReactorCore.callWhenRunning`. */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.#reactor.callWhenRunning(fn, ...args);
  }

  /** See `IReactorCore.addSystemEventTrigger`. */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    fn: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerId {
    return this.#reactor.addSystemEventTrigger(phase, eventType, fn, ...args);
  }

  /** See `IReactorCore.removeSystemEventTrigger`. */
  removeSystemEventTrigger(id: SystemEventTriggerId): void {
    this.#reactor.removeSystemEventTrigger(id);
  }

  /** @returns e.g. `SimulatedHost(server 10.0.0.1)`. */
  toString(): string {
    return `SimulatedHost(${this.name} ${this.address})`;
  }
}
