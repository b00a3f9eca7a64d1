/**
 * The options of {@link describeReactorConformance}: how to make a reactor,
 * how to clean it up, which capabilities it lacks, and how long a test may take.
 * @module
 */
import type { IReactor } from '@torsion/core';

/**
 * A group of behaviours a reactor may legitimately lack; naming it in
 * {@link ConformanceOptions.skip} marks those tests pending instead of failed.
 *
 * - `halfClose`: `loseWriteConnection()` and `IHalfCloseableProtocol`
 *   (`readConnectionLost` / `writeConnectionLost`).
 * - `tcpOptions`: `setTcpNoDelay` / `setTcpKeepAlive` read back through
 *   `getTcpNoDelay` / `getTcpKeepAlive` (an in-memory network has no sockets to set them on).
 * - `portInUse`: a second `listenTCP` on a bound port fails with `CannotListenError`.
 * - `shutdownGracePeriod`: shutdown aborts connections still open after the
 *   reactor's grace period (the test waits that long by the reactor's clock).
 * - `tls`: `listenSSL` / `connectSSL` (`IReactorSSL`): every TLS test but the
 *   `startTLS` ones. A reactor without `listenSSL` at all has the whole TLS
 *   section reported as pending, with no need to name this.
 * - `startTLS`: `transport.startTLS()` switching a live plaintext TCP
 *   connection to TLS, on both ends.
 * - `tlsSNI`: a TLS port choosing its certificate by the name the client asks
 *   for (server options' `sni`).
 * - `tlsHalfClose`: `loseWriteConnection()` over TLS (close_notify and FIN
 *   while still reading, as TLS 1.3 allows). Skipping `halfClose` skips it too.
 * - `unix`: `listenUNIX` / `connectUNIX` (`IReactorUNIX`). A reactor without
 *   `listenUNIX` at all has the whole UNIX section reported as pending, with
 *   no need to name this.
 * - `unixAbstract`: Linux abstract-namespace names (`'\0name'`): no file,
 *   shown as `@name`.
 * - `udp`: `listenUDP` (`IReactorUDP`). A reactor without `listenUDP` at all
 *   has the whole UDP section reported as pending, with no need to name this.
 * - `udpIPv6`: UDP ports on IPv6 (`::1`).
 * - `udpMulticast`: `joinGroup` and delivery to a multicast group on loopback.
 * - `udpListenMultiple`: `listenMultiple: true`, several sockets on one UDP port.
 * - `adoptStreamPort`: listening on an inherited descriptor (`IReactorSocket`,
 *   the `systemd:` endpoint). No suite test needs a descriptor to adopt (each
 *   reactor's own tests hand it sockets the way systemd does); a reactor that
 *   refuses it names this capability in its error: SimulatedReactor (no
 *   descriptors).
 * - `processes`: `spawnProcess` (`IReactorProcess`) with real executables
 *   (`cat`, `sh`). A reactor without `spawnProcess` at all has the whole
 *   process section reported as pending, with no need to name this.
 */
export type ReactorCapability =
  | 'halfClose'
  | 'tcpOptions'
  | 'portInUse'
  | 'shutdownGracePeriod'
  | 'tls'
  | 'startTLS'
  | 'tlsSNI'
  | 'tlsHalfClose'
  | 'unix'
  | 'unixAbstract'
  | 'udp'
  | 'udpIPv6'
  | 'udpMulticast'
  | 'udpListenMultiple'
  | 'adoptStreamPort'
  | 'processes';

/** Every {@link ReactorCapability}, for listing or validating a skip list. */
export const REACTOR_CAPABILITIES: readonly ReactorCapability[] = Object.freeze([
  'halfClose',
  'tcpOptions',
  'portInUse',
  'shutdownGracePeriod',
  'tls',
  'startTLS',
  'tlsSNI',
  'tlsHalfClose',
  'unix',
  'unixAbstract',
  'udp',
  'udpIPv6',
  'udpMulticast',
  'udpListenMultiple',
  'adoptStreamPort',
  'processes',
]);

/** How {@link describeReactorConformance} makes, cleans up and times the reactor under test. */
export interface ConformanceOptions {
  /**
   * Makes a fresh, never-started reactor; called once per test. It must not
   * install signal handlers (for Torsion's reactors:
   * `{ installSignalHandlers: false }`), and a short shutdown grace period
   * keeps the suite fast (`shutdownGracePeriod: 0.5`).
   */
  makeReactor(): IReactor;
  /**
   * Extra cleanup after each test, once the suite has stopped the reactor (if
   * it started it) and `run()` has settled. The default does nothing more.
   */
  destroyReactor?(reactor: IReactor): Promise<void> | void;
  /** Capabilities this reactor lacks; their tests are reported as pending. */
  skip?: readonly ReactorCapability[];
  /**
   * Known deviations: test titles (exactly as the suite names them, without
   * the enclosing `describe` names) mapped to the reason, e.g. an issue link.
   * Such a test still runs and passes only while it fails; once it passes it
   * fails, asking for its entry to be removed. A title that names no test
   * throws when the suite is registered.
   */
  knownFailures?: Readonly<Record<string, string>>;
  /**
   * Where the UNIX section's sockets live and how it inspects them. The
   * default is the real file system: a fresh directory under the OS's temp
   * directory per test, a stale socket made by listening, hard-linking the
   * file and stopping (which leaves the link), and modes read with `lstat`.
   * A reactor whose UNIX sockets are not files (a simulated one) passes its own.
   */
  unixFiles?: UNIXFileHooks;
  /**
   * How the process section starts the children it needs. The default runs
   * real commands (`cat`, `sh -c …`, `sleep`); a reactor whose children are
   * not real processes (a simulated one) passes its own.
   */
  processCommands?: ProcessCommands;
  /**
   * Seconds, by the reactor's own clock, after which a test fails as hung.
   * Default 10. A reactor with virtual time reaches it at once when it idles.
   */
  timeout?: number;
  /**
   * Multiplies {@link ConformanceOptions.timeout} and mocha's wall-clock
   * timeout, for slow machines. Default 1.
   */
  timeoutScale?: number;
}

/**
 * A child the process section needs, by what it does:
 * - `echo`: copies stdin to stdout, exits 0 at the end of stdin (`cat`);
 * - `exit3`: exits with status 3 at once;
 * - `sleep`: runs until signalled (dies of SIGTERM/SIGKILL);
 * - `stdoutAndStderr`: writes `out` to stdout and `err` to stderr, exits 0;
 * - `writeFD3`: writes `three` to descriptor 3, exits 0;
 * - `closeStdoutAndRunOn`: writes `bye`, closes stdout, 0.2 s later writes
 *   `done` to stderr and exits 0;
 * - `writeThenSleep`: writes `x` to stdout, then runs until signalled;
 * - `missing`: an executable that does not exist.
 */
export type ProcessBehaviour =
  | 'echo'
  | 'exit3'
  | 'sleep'
  | 'stdoutAndStderr'
  | 'writeFD3'
  | 'closeStdoutAndRunOn'
  | 'writeThenSleep'
  | 'missing';

/** How the process section starts its children on a reactor. */
export interface ProcessCommands {
  /**
   * The executable and arguments that behave as `behaviour` on `reactor`
   * (called once per child, so a simulated reactor can script it first).
   */
  command(
    reactor: IReactor,
    behaviour: ProcessBehaviour,
  ): { readonly executable: string; readonly args: readonly string[] };
}

/** How the UNIX section of the suite reaches the files of a reactor's UNIX sockets. */
export interface UNIXFileHooks {
  /** A path for a socket nobody else uses, in a directory this test may write (called per test). */
  socketPath(reactor: IReactor, name: string): string;
  /** Leaves at `path` a socket file nothing listens on, as a server that crashed does. */
  makeStaleSocket(reactor: IReactor, path: string): Promise<void> | void;
  /** The file at `path`: whether it is a socket and its permission bits, or null when there is none. */
  statFile(
    reactor: IReactor,
    path: string,
  ): { readonly socket: boolean; readonly mode: number } | null;
  /** Called after each test (remove the test's directory). */
  cleanup?(reactor: IReactor): void;
}
