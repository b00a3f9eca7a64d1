/**
 * `NodeReactor`: the reactor on top of Node's event loop. Time and lifecycle
 * come from {@link ReactorBase}; this adds Node's monotonic clock, TCP on
 * `node:net` and TLS on `node:tls` (ports, connection attempts and
 * connections, each registered so that `stop()` can close them all).
 *
 * Tests: test/node-reactor.test.ts, test/tcp*.integration.test.ts,
 * test/tls*.integration.test.ts, test/types/reactors.test-d.ts
 * @module
 */
import { performance } from 'node:perf_hooks';
import type {
  AdoptedSocketFamily,
  IReactorSocket,
  ConnectSSLOptions,
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IClientFactory,
  IConnector,
  IDatagramProtocol,
  IReactorUDP,
  IUDPPort,
  IListeningPort,
  IProtocolFactory,
  ISSLListeningPort,
  ITLSReactor,
  ListenSSLOptions,
  ListenTCPOptions,
  ListenUNIXOptions,
  IReactorUNIX,
  ListenUDPOptions,
  IProcessProtocol,
  IProcessTransport,
  IReactorProcess,
  SpawnProcessOptions,
} from './interfaces.js';
import { NodeProcessTransport } from './process/node-process-transport.js';
import { checkSpawnProcess } from './process/spawn-checks.js';
import type { IAddress, UNIXAddress } from './address.js';
import { checkAdoptStreamPort } from './internal/adopt-checks.js';
import { AdoptedPort } from './internal/adopted-port.js';
import { Registry } from './internal/registry.js';
import { TCPConnector, type ConnectorSettings } from './internal/tcp-connector.js';
import { TCPPort } from './internal/tcp-port.js';
import { TLSConnector } from './internal/tls-connector.js';
import { TLSPort } from './internal/tls-port.js';
import { UNIXConnector } from './internal/unix-connector.js';
import { UNIXPort } from './internal/unix-port.js';
import { UDPPort } from './internal/udp-port.js';
import { checkListenUDP } from './reactor-kit/base-udp-port.js';
import { checkTLSOptions, type ClientTLSOptions, type ServerTLSOptions } from './tls-options.js';
import {
  checkConnectUNIX,
  checkListenUNIX,
  checkWriteHighWaterMark,
} from './reactor-kit/argument-checks.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from './reactor-kit/base-transport.js';
import { ReactorBase, type ReactorBaseOptions } from './reactor-kit/reactor-base.js';

/** Options for {@link NodeReactor}. */
export interface NodeReactorOptions extends ReactorBaseOptions {
  /**
   * Write high-water mark of every TCP transport, in bytes. Default 64 KiB.
   * Each transport's `writeHighWaterMark` can also be changed later.
   */
  writeHighWaterMark?: number;
}

/**
 * The standard reactor: Node's event loop seen through Twisted's IReactor,
 * with TLS (an {@link ITLSReactor}).
 *
 * @example
 * ```ts
 * const reactor = new NodeReactor();
 * reactor.listenTCP(8000, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
 * reactor.listenSSL(8443, Factory.forProtocol(Echo), serverTLSOptions({ keyFile, certFile }));
 * await reactor.run(); // until SIGINT/SIGTERM or reactor.stop()
 * ```
 *
 * @remarks
 * Node's loop always runs, so `callLater`, `listenTCP`, `connectTCP`,
 * `listenSSL` and `connectSSL` work before `run()` too; `run()` adds the
 * lifecycle (startup triggers, `callWhenRunning`, and an orderly shutdown).
 * Once stopped, the reactor runs nothing more: pending delayed calls are
 * dropped (so the process can exit), handshakes in progress are dropped, and
 * `listen*`/`connect*` throw ReactorNotRestartable.
 *
 * TLS is Node's own (`tls.TLSSocket` on the TCP socket, as `tls.Server` and
 * `tls.connect` make it), so it costs what plain `node:tls` costs. A
 * connection's protocol is built and connected only once its handshake
 * completed; see {@link NodeReactor.listenSSL} and {@link NodeReactor.connectSSL}.
 */
export class NodeReactor
  extends ReactorBase
  implements ITLSReactor, IReactorUDP, IReactorUNIX, IReactorSocket, IReactorProcess
{
  readonly #registry: Registry;
  /** `seconds()` as first read by a `callLater` in this job; see {@link NodeReactor.schedulingTime}. */
  #turnTime: number | undefined = undefined;
  readonly #endTurn = (): void => {
    this.#turnTime = undefined;
  };

  /**
   * @param options - see {@link NodeReactorOptions}.
   * @throws RangeError for an invalid option value.
   */
  constructor(options: NodeReactorOptions = {}) {
    const hwm = checkWriteHighWaterMark(
      options.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK,
    );
    const registry = new Registry(hwm);
    super(options, registry);
    this.#registry = registry;
  }

  /** Monotonic seconds (`performance.now() / 1000`); not the Unix epoch. */
  seconds(): number {
    return performance.now() / 1000;
  }

  /**
   * Delays count from the time of the first `callLater` (or `reset`) in the
   * current job, read once and forgotten when the job's microtasks run or a
   * timer turn begins. Reading the clock costs about as much as the rest of
   * `callLater` together, and a server that arms a timeout per connection
   * schedules many calls per job. Node's `setTimeout` goes further and counts
   * from the start of the event-loop turn.
   */
  protected override schedulingTime(): number {
    let now = this.#turnTime;
    if (now === undefined) {
      now = this.#turnTime = this.seconds();
      queueMicrotask(this.#endTurn);
    }
    return now;
  }

  protected override runDueCalls(): number {
    // The calls that run now count their own delays from now, not from
    // whenever this job first scheduled something.
    this.#turnTime = undefined;
    return super.runDueCalls();
  }

  // ---------------------------------------------------------------- TCP

  /**
   * Listens on `port` (0 for any free port). Returns at once; binding is
   * asynchronous, see {@link IListeningPort.whenListening}.
   * @param options - `backlog` (default 4096) and `interface` (default `''`:
   *   Node's default, all interfaces, IPv6 and IPv4 where dual-stack).
   * @throws RangeError for a port outside 0..65535 or a bad backlog.
   * @throws TypeError if `factory` has no `buildProtocol` or the interface is not a string.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): IListeningPort {
    const { backlog, iface } = this.checkListenTCP(port, factory, options);
    this.checkOpen();
    const listening = new TCPPort(this.#registry, port, factory, backlog, iface);
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port`; the factory hears `startedConnecting`, then
   * `clientConnectionFailed` or (after the connection ends) `clientConnectionLost`.
   * @param options - `timeout` in seconds (default 30; `Infinity` for none) and `bindAddress`.
   * @throws RangeError for a port outside 1..65535 or a bad timeout.
   * @throws TypeError if `host` is not a non-empty string or `factory` is not a client factory.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions = {},
  ): IConnector {
    const settings = this.#connectSettings(host, port, factory, options);
    this.checkOpen();
    const connector = new TCPConnector(this.#registry, this, factory, settings);
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- TLS

  /**
   * Listens on `port` (0 for any free port) and speaks TLS as `options` say.
   * Each connection's protocol is built and connected once its handshake
   * completed (and the client's certificate passed, for mutual TLS), then
   * hears `handshakeCompleted()` if it has it. A handshake that fails or
   * takes longer than `options.handshakeTimeout` is logged at 'info' on
   * `torsion.tls` with the peer and the TLSError code, and costs only that
   * connection. The port's `setTLSOptions()` replaces the certificates for
   * new connections. TLS connections start with Nagle's algorithm off
   * (`getTcpNoDelay()` true). Returns at once; see {@link IListeningPort.whenListening}.
   * @param options - made by `serverTLSOptions()`.
   * @param listenOptions - `backlog` and `interface`, as for {@link NodeReactor.listenTCP}.
   * @throws RangeError for a port outside 0..65535 or a bad backlog.
   * @throws TypeError if `factory` has no `buildProtocol`, the interface is
   *   not a string, or `options` were not made by `serverTLSOptions()`.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions: ListenSSLOptions = {},
  ): ISSLListeningPort {
    const { backlog, iface } = this.checkListenTCP(port, factory, listenOptions);
    checkTLSOptions(options, 'server');
    this.checkOpen();
    const listening = new TLSPort(this.#registry, this, port, factory, backlog, iface, options);
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port` and speaks TLS as `options` say: by default the
   * server's certificate must chain to a trusted root and be valid for
   * `options.hostname`. The protocol is built and connected once the
   * handshake completed, then hears `handshakeCompleted()` if it has it; a
   * failed handshake reaches `clientConnectionFailed` as a TLSError. The
   * connection starts with Nagle's algorithm off (`getTcpNoDelay()` true).
   * @param options - made by `optionsForClientTLS()`.
   * @param connectOptions - `timeout` in seconds, covering the TCP connect and
   *   the handshake together (default 30; `Infinity` for none; the options'
   *   `handshakeTimeout` also applies), and `bindAddress`.
   * @throws RangeError for a port outside 1..65535 or a bad timeout.
   * @throws TypeError if `host` is not a non-empty string, `factory` is not a
   *   client factory, or `options` were not made by `optionsForClientTLS()`.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions: ConnectSSLOptions = {},
  ): IConnector {
    const settings = this.#connectSettings(host, port, factory, connectOptions);
    checkTLSOptions(options, 'client');
    this.checkOpen();
    const connector = new TLSConnector(this.#registry, this, factory, settings, options);
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- UDP

  /**
   * Binds UDP `port` (0 for any free port) on `node:dgram` and gives
   * `protocol` its datagrams: `makeConnection` and `startProtocol` once
   * bound, `stopProtocol` once stopped. Returns at once; see
   * {@link IListeningPort.whenListening}. See docs/udp.md.
   * @param options - `interface` (an IP literal; default every IPv4
   *   interface; an IPv6 literal makes an IPv6 port), `maxPacketSize`
   *   (default 8192) and `listenMultiple`.
   * @throws RangeError for a port outside 0..65535 or a bad `maxPacketSize`.
   * @throws TypeError if `protocol` is not a datagram protocol.
   * @throws InvalidAddressError if the interface is not an IP address literal.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenUDP(port: number, protocol: IDatagramProtocol, options: ListenUDPOptions = {}): IUDPPort {
    const checked = checkListenUDP(port, protocol, options);
    this.checkOpen();
    const listening = new UDPPort(this.#registry, port, protocol, checked);
    listening.startListening();
    return listening;
  }

  // ---------------------------------------------------------------- UNIX

  /**
   * Listens on the UNIX socket `path` (see docs/unix.md). A socket file
   * nothing listens on (left by a server that is gone) is replaced; a live
   * one, or a file that is not a socket, is left alone and the port fails
   * with CannotListenError (cause code EADDRINUSE). The socket file has
   * `mode` before any client can reach it, and `stopListening()` removes it
   * (and the lock) while it is still this port's. A path starting with `'\0'`
   * is a Linux abstract-namespace name: no file, no mode. Returns at once;
   * see {@link IListeningPort.whenListening}.
   * @param options - `backlog` (default 4096), `mode` (default `0o666`) and
   *   `wantPID` (keep `<path>.lock`, Twisted's lock file, while listening).
   * @throws TypeError for a bad path or factory; RangeError for a path over
   *   107 bytes, a bad backlog or mode.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ): IListeningPort<UNIXAddress> {
    const settings = checkListenUNIX(path, factory, options);
    this.checkOpen();
    const listening = new UNIXPort(this.#registry, path, factory, settings);
    listening.startListening();
    return listening;
  }

  /**
   * Connects to the UNIX socket `path`; the factory hears `startedConnecting`,
   * then `clientConnectionFailed` (a missing file or nothing listening is a
   * ConnectionRefusedError) or, after the connection ends, `clientConnectionLost`.
   * @param options - `timeout` in seconds (default 30) and `checkPID` (refuse
   *   unless `<path>.lock` names a live process).
   * @throws TypeError for a bad path or factory; RangeError for a bad timeout.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  connectUNIX(path: string, factory: IClientFactory, options: ConnectUNIXOptions = {}): IConnector {
    const settings = checkConnectUNIX(path, factory, options);
    this.checkOpen();
    const connector = new UNIXConnector(this.#registry, this, path, factory, settings);
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- adopted sockets

  /**
   * Accepts connections on the listening socket `fd`, which this process
   * inherited already bound and listening (systemd socket activation; see
   * the `systemd:` endpoint). `family` says which transports its connections
   * get: TCP for `INET`/`INET6`, UNIX for `UNIX`. `stopListening()` closes
   * the descriptor. A descriptor that is not a listening socket makes
   * `whenListening()` fail with CannotListenError.
   * @throws TypeError if `fd` is not a non-negative integer, `family` is not
   *   INET, INET6 or UNIX, or `factory` has no `buildProtocol`.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  adoptStreamPort(
    fd: number,
    family: AdoptedSocketFamily,
    factory: IProtocolFactory,
  ): IListeningPort<IAddress> {
    checkAdoptStreamPort(fd, family, factory);
    this.checkOpen();
    const listening = new AdoptedPort(this.#registry, fd, family, factory);
    listening.startListening();
    return listening;
  }

  // ---------------------------------------------------------------- processes

  /**
   * Starts a child process with `node:child_process` and connects
   * `processProtocol` to it before returning (see docs/processes.md). `args`
   * are the arguments after `argv[0]`, as Node takes them. The child inherits
   * this process's environment unless `options.env` says otherwise. A child
   * that cannot start reaches `processEnded` as a ProcessSpawnError on a
   * later turn. Children are not stopped with the reactor.
   * @throws TypeError / RangeError for a bad argument or option, naming it.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[] = [],
    options: SpawnProcessOptions = {},
  ): IProcessTransport {
    const settings = checkSpawnProcess(processProtocol, executable, args, options);
    this.checkOpen();
    return new NodeProcessTransport(processProtocol, settings, this.#registry.writeHighWaterMark);
  }

  #connectSettings(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions,
  ): ConnectorSettings {
    const checked = this.checkConnectTCP(host, port, factory, options);
    return checked.bindAddress === undefined
      ? { host, port, timeout: checked.timeout }
      : { host, port, timeout: checked.timeout, bindAddress: checked.bindAddress };
  }
}
