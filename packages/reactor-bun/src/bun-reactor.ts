/**
 * `BunReactor`: a Torsion reactor on Bun's native sockets (`Bun.listen`,
 * `Bun.connect`), Bun's native TLS and timers. Time and lifecycle come from
 * core's ReactorBase, exactly as on NodeReactor; TCP and TLS are Bun's, with
 * core's semantics (close reasons, half-close, producers and backpressure,
 * fault isolation, protocols connected after the TLS handshake), so one
 * Protocol runs unchanged on either reactor.
 *
 * Tests: test/reactor.bun.test.ts, test/conformance.bun.test.ts,
 * test/tls.bun.test.ts, test/tls-interop.bun.test.ts,
 * test/start-tls.bun.test.ts and the other test/*.bun.test.ts files;
 * test/types/bun-reactor.test-d.ts
 * @module
 */
import {
  checkAdoptStreamPort,
  checkConnectUNIX,
  checkListenUDP,
  checkListenUNIX,
  checkSpawnProcess,
  checkWriteHighWaterMark,
  DEFAULT_WRITE_HIGH_WATER_MARK,
  OpenResources,
  ReactorBase,
} from '@torsion/core/reactor-kit';
import { checkTLSOptions } from '@torsion/core';
import type {
  AdoptedSocketFamily,
  ClientTLSOptions,
  ConnectSSLOptions,
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IClientFactory,
  IConnector,
  IAddress,
  IDatagramProtocol,
  IListeningPort,
  IReactorSocket,
  IReactorUDP,
  IReactorUNIX,
  IUDPPort,
  IProcessProtocol,
  IProcessTransport,
  IProtocolFactory,
  IReactorProcess,
  ISSLListeningPort,
  ITLSReactor,
  ListenSSLOptions,
  ListenTCPOptions,
  ListenUDPOptions,
  ListenUNIXOptions,
  ServerTLSOptions,
  SpawnProcessOptions,
  UNIXAddress,
} from '@torsion/core';
import type { ReactorBaseOptions } from '@torsion/core/reactor-kit';
import { BunAdoptedPort } from './internal/bun-adopted-port.js';
import { BunProcessTransport } from './internal/bun-process-transport.js';
import { BunTCPConnector } from './internal/bun-tcp-connector.js';
import { BunSSLConnector } from './internal/bun-ssl-connector.js';
import { BunSSLPort } from './internal/bun-ssl-port.js';
import { BunTCPPort } from './internal/bun-tcp-port.js';
import { checkBunCanServe } from './internal/bun-tls-options.js';
import { BunUNIXConnector } from './internal/bun-unix-connector.js';
import { BunUNIXPort } from './internal/bun-unix-port.js';
import { BUN_UDP_LIMITS, BunUDPPort } from './internal/bun-udp-port.js';
import { isBun } from './runtime.js';

/** Options for {@link BunReactor}: NodeReactor's, with the same defaults. */
export interface BunReactorOptions extends ReactorBaseOptions {
  /**
   * Write high-water mark of every TCP transport, in bytes. Default 64 KiB.
   * Each transport's `writeHighWaterMark` can also be changed later.
   */
  writeHighWaterMark?: number;
}

/**
 * A reactor for programs run with Bun: Twisted's IReactor and IReactorSSL
 * on Bun's native TCP and TLS sockets and timers.
 *
 * @example
 * ```ts
 * import { Factory } from '@torsion/core';
 * import { Echo } from '@torsion/echo';
 * import { BunReactor } from '@torsion/reactor-bun';
 *
 * const reactor = new BunReactor();
 * reactor.listenTCP(8007, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
 * await reactor.run(); // until SIGINT/SIGTERM or reactor.stop()
 * ```
 *
 * @remarks
 * Differences from NodeReactor, all where Bun's socket API leaves no
 * choice: `listenTCP` binds before it returns (so `getHost()` has the real
 * port at once, and `whenListening()` has already fired); the `backlog`
 * option is checked but Bun always listens with 512; `bindAddress` is not
 * supported by `Bun.connect` and throws; and new connections start with
 * Nagle's algorithm off (Bun's default; `getTcpNoDelay()` says so).
 *
 * TLS (`listenSSL`, `connectSSL`) is Bun's native TLS (BoringSSL), with
 * Torsion's own certificate and host-name checks, so failures carry the same
 * TLSError codes as on NodeReactor. Two capabilities are missing, each
 * refused with an Error naming it (docs/reactor-bun.md): `tlsSNI` (several
 * certificates chosen by SNI, on a port or in `startTLS`) and `tlsHalfClose` after
 * `startTLS()` (`loseWriteConnection()` on a switched connection);
 * half-close over `listenSSL`/`connectSSL` works. `setTLSOptions` replaces
 * the port's listener on the same address.
 *
 * UDP (`listenUDP`) is `Bun.udpSocket`: it binds asynchronously, as on
 * Node; `connect()` is done by the port (Bun connects a socket only when it
 * creates it), and `listenMultiple` is refused (capability `udpListenMultiple`).
 */
export class BunReactor
  extends ReactorBase
  implements ITLSReactor, IReactorUDP, IReactorUNIX, IReactorSocket, IReactorProcess
{
  readonly #writeHighWaterMark: number;

  /**
   * @param options - see {@link BunReactorOptions}.
   * @throws RangeError for an invalid option value.
   * @throws Error when not running on Bun.
   */
  constructor(options: BunReactorOptions = {}) {
    if (!isBun()) {
      throw new Error(
        'BunReactor needs the Bun runtime (run the program with `bun`); use NodeReactor on Node.js',
      );
    }
    const hwm = checkWriteHighWaterMark(
      options.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK,
    );
    super(options, new OpenResources());
    this.#writeHighWaterMark = hwm;
  }

  /** Monotonic seconds (`performance.now() / 1000`); not the Unix epoch. */
  seconds(): number {
    return performance.now() / 1000;
  }

  // ---------------------------------------------------------------- TCP

  /**
   * Listens on `port` (0 for any free port). Bun binds at once: the port is
   * returned bound, or with `whenListening()` failed with CannotListenError
   * (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`…); a network failure is never
   * thrown from here.
   * @param options - `interface` (default `''`: every interface, IPv6 and
   *   IPv4 where dual-stack) and `backlog` (checked; Bun always uses 512).
   * @throws RangeError for a port outside 0..65535 or a bad backlog.
   * @throws TypeError if `factory` has no `buildProtocol` or the interface is not a string.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): IListeningPort {
    const { iface } = this.checkListenTCP(port, factory, options);
    this.checkOpen();
    const listening = new BunTCPPort(
      { resources: this.openResources, writeHighWaterMark: this.#writeHighWaterMark },
      port,
      factory,
      iface,
    );
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port`; the factory hears `startedConnecting`, then
   * `clientConnectionFailed` or (after the connection ends) `clientConnectionLost`.
   * @param options - `timeout` in seconds (default 30; `Infinity` for none).
   * @throws RangeError for a port outside 1..65535 or a bad timeout.
   * @throws TypeError if `host` is not a non-empty string or `factory` is not a client factory.
   * @throws Error if `bindAddress` is given: `Bun.connect` cannot bind the local end.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions = {},
  ): IConnector {
    const { timeout, bindAddress } = this.checkConnectTCP(host, port, factory, options);
    if (bindAddress !== undefined) {
      throw new Error(
        'BunReactor does not support bindAddress: Bun.connect cannot choose the local address',
      );
    }
    this.checkOpen();
    const connector = new BunTCPConnector(this.openResources, this, factory, {
      host,
      port,
      timeout,
      writeHighWaterMark: this.#writeHighWaterMark,
    });
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- UNIX

  /**
   * Listens on the UNIX socket `path` (see docs/unix.md), as NodeReactor
   * does: a stale socket file is replaced, a live one (or a file that is not
   * a socket) is left alone and the port fails with CannotListenError (cause
   * code EADDRINUSE); the file has `mode` before any client can reach it;
   * `stopListening()` removes it (and the lock) only while it is still this
   * port's. A path starting with `'\0'` is a Linux abstract-namespace name.
   * Returns at once; the path is probed before Bun binds, so
   * `whenListening()` reports the outcome on a later turn.
   * @param options - `backlog` (checked; Bun always uses 512), `mode`
   *   (default `0o666`) and `wantPID` (keep `<path>.lock` while listening).
   * @throws TypeError for a bad path or factory; RangeError for a path over
   *   107 bytes, a bad backlog or mode.
   * @throws ReactorNotRestartable if the reactor has stopped.
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ): IListeningPort<UNIXAddress> {
    const { mode, wantPID } = checkListenUNIX(path, factory, options);
    this.checkOpen();
    const listening = new BunUNIXPort(
      {
        resources: this.openResources,
        writeHighWaterMark: this.#writeHighWaterMark,
        mode,
        wantPID,
      },
      path,
      factory,
    );
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
    const { timeout, checkPID } = checkConnectUNIX(path, factory, options);
    this.checkOpen();
    const connector = new BunUNIXConnector(this.openResources, this, factory, {
      path,
      timeout,
      checkPID,
      writeHighWaterMark: this.#writeHighWaterMark,
    });
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- TLS

  /**
   * Listens on `port` and speaks TLS with Bun's native TLS: each
   * connection's protocol is built and connected once its handshake
   * completed, then hears `handshakeCompleted()`. A failed or timed-out
   * handshake is logged at 'info' on `torsion.tls` and costs only that
   * connection. Binds at once, as {@link BunReactor.listenTCP}.
   * @param options - made by `serverTLSOptions()`.
   * @param listenOptions - `interface` and `backlog`, as for `listenTCP`.
   * @throws TypeError if `options` were not made by `serverTLSOptions()`.
   * @throws Error if `options` has SNI certificates: Bun's listener cannot
   *   choose a certificate per connection (capability `tlsSNI`).
   * @throws RangeError, TypeError, ReactorNotRestartable as `listenTCP`.
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions: ListenSSLOptions = {},
  ): ISSLListeningPort {
    const { iface } = this.checkListenTCP(port, factory, listenOptions);
    checkTLSOptions(options, 'server');
    checkBunCanServe(options);
    this.checkOpen();
    const listening = new BunSSLPort(
      { resources: this.openResources, writeHighWaterMark: this.#writeHighWaterMark },
      port,
      factory,
      iface,
      options,
    );
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port` and speaks TLS with Bun's native TLS. The
   * server's certificate must chain to `options.trustRoot` (or the default
   * roots) and be valid for `options.hostname`, whatever address is dialled.
   * The protocol is connected once the handshake completed; a failed one
   * reaches `clientConnectionFailed` as a TLSError.
   * @param options - made by `optionsForClientTLS()`.
   * @param connectOptions - `timeout` in seconds covers the connect and the
   *   handshake together (default 30); `bindAddress` is not supported.
   * @throws TypeError if `options` were not made by `optionsForClientTLS()`.
   * @throws RangeError, TypeError, Error, ReactorNotRestartable as `connectTCP`.
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions: ConnectSSLOptions = {},
  ): IConnector {
    const { timeout, bindAddress } = this.checkConnectTCP(host, port, factory, connectOptions);
    checkTLSOptions(options, 'client');
    if (bindAddress !== undefined) {
      throw new Error(
        'BunReactor does not support bindAddress: Bun.connect cannot choose the local address',
      );
    }
    this.checkOpen();
    const connector = new BunSSLConnector(
      this.openResources,
      this,
      factory,
      { host, port, timeout, writeHighWaterMark: this.#writeHighWaterMark },
      options,
    );
    connector.connect();
    return connector;
  }

  // ---------------------------------------------------------------- adopted sockets

  /**
   * Accepts connections on the listening socket `fd`, which this process
   * inherited already bound and listening (systemd socket activation; the
   * `systemd:` endpoint), with `Bun.listen({ fd })`: TCP connections for
   * `INET`/`INET6`, UNIX ones for `UNIX`. Binds at once, as `listenTCP`; a
   * descriptor Bun cannot listen on fails `whenListening()`. Unlike the
   * ports this reactor binds, it never re-binds, so it does not stop
   * listening while file descriptors run out; `stopListening()` closes the
   * descriptor.
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
    const listening = new BunAdoptedPort(
      { resources: this.openResources, writeHighWaterMark: this.#writeHighWaterMark },
      fd,
      family,
      factory,
    );
    listening.startListening();
    return listening;
  }

  // ---------------------------------------------------------------- processes

  /**
   * Starts a child process with `node:child_process` as Bun implements it
   * (see docs/reactor-bun.md for why not `Bun.spawn`) and connects
   * `processProtocol` to it before returning, with the semantics of
   * NodeReactor's (see docs/processes.md). A child that cannot start
   * reaches `processEnded` as a ProcessSpawnError on a later turn. Children
   * are not stopped with the reactor.
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
    return new BunProcessTransport(processProtocol, settings, this.#writeHighWaterMark);
  }

  // ---------------------------------------------------------------- UDP

  /**
   * Binds UDP `port` (0 for any free port) with `Bun.udpSocket` and gives
   * `protocol` its datagrams. Binding is asynchronous; see
   * {@link IListeningPort.whenListening}. See docs/udp.md.
   * @param options - `interface` (an IP literal; default every IPv4
   *   interface) and `maxPacketSize` (default 8192).
   * @throws Error for `listenMultiple: true` (capability `udpListenMultiple`).
   * @throws RangeError, TypeError, InvalidAddressError, ReactorNotRestartable as on NodeReactor.
   */
  listenUDP(port: number, protocol: IDatagramProtocol, options: ListenUDPOptions = {}): IUDPPort {
    const checked = checkListenUDP(port, protocol, options);
    if (checked.listenMultiple) throw new Error(BUN_UDP_LIMITS.udpListenMultiple);
    this.checkOpen();
    const listening = new BunUDPPort(this.openResources, port, protocol, checked);
    listening.startListening();
    return listening;
  }
}
