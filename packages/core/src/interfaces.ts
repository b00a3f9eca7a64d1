/**
 * The contracts. Declarations only, no runtime code: reactors, transports,
 * protocols and factories are anything that fits these shapes, so a plain
 * object literal or a third-party class works as well as Torsion's own.
 *
 * Units: time is in **seconds** (fractions allowed). Data is bytes: protocols
 * receive `Buffer`; transports accept `Uint8Array | string` (a string is UTF-8).
 *
 * Tests: none of their own (declarations only); each implementation's tests check
 * it against these, e.g. test/testing/string-transport.test.ts,
 * test/testing/memory-reactor.test.ts, and the conformance suite
 * @module
 */
import type { IAddress, INETAddress, UNIXAddress } from './address.js';
import type { Deferred } from './deferred.js';
import type { Failure } from './failure.js';
import type { ProcessAddress } from './process/process-address.js';
import type { ClientTLSOptions, ServerTLSOptions } from './tls-options.js';

/** What `write()` accepts: bytes, or a string sent as UTF-8. */
export type WriteData = Uint8Array | string;

// ---------------------------------------------------------------- time

/** A call scheduled with {@link IReactorTime.callLater}. */
export interface IDelayedCall {
  /** When the call will run, in the reactor's {@link IReactorTime.seconds} time. */
  getTime(): number;
  /**
   * Unschedules the call.
   * @throws AlreadyCalledError if it already ran; AlreadyCancelledError if it was cancelled.
   */
  cancel(): void;
  /**
   * Moves the call `secondsLater` seconds later than it is now scheduled.
   * @throws AlreadyCalledError / AlreadyCancelledError as {@link IDelayedCall.cancel}.
   */
  delay(secondsLater: number): void;
  /**
   * Reschedules the call to run `secondsFromNow` seconds from now.
   * @throws AlreadyCalledError / AlreadyCancelledError as {@link IDelayedCall.cancel}.
   */
  reset(secondsFromNow: number): void;
  /** True until the call has run or was cancelled. */
  active(): boolean;
}

/** Scheduling. */
export interface IReactorTime {
  /**
   * The reactor's current time in seconds. Monotonic: changing the system
   * clock never moves it, so it is not the Unix epoch.
   */
  seconds(): number;
  /**
   * Runs `fn(...args)` after `delaySeconds` seconds. Calls due at the same time
   * run in the order they were scheduled. An exception thrown by `fn` is logged
   * and does not stop the reactor.
   * @throws RangeError if `delaySeconds` is negative or not a finite number.
   */
  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall;
  /** Every call that is scheduled and has not run or been cancelled. */
  getDelayedCalls(): IDelayedCall[];
}

// ---------------------------------------------------------------- lifecycle

/** When a system event trigger runs relative to the event. */
export type SystemEventPhase = 'before' | 'during' | 'after';
/** The events a reactor fires. */
export type SystemEventType = 'startup' | 'shutdown';
/** Identifies a trigger for {@link IReactorCore.removeSystemEventTrigger}. */
export type SystemEventTriggerId = symbol;

/** Start, stop, and hooks around them. */
export interface IReactorCore {
  /** True between startup and the end of shutdown. */
  readonly running: boolean;
  /**
   * Starts the reactor: fires the startup triggers and the `callWhenRunning`
   * calls. Node's event loop cannot be blocked, so this returns a promise that
   * settles once {@link IReactorCore.stop} was called and every shutdown
   * trigger (including Deferreds they returned) has finished.
   * @throws ReactorAlreadyRunning, ReactorNotRestartable
   */
  run(): Promise<void>;
  /**
   * Begins shutdown: `before` triggers (their Deferreds awaited), then `during`
   * (ports stop listening, connections close), then `after`.
   * @throws ReactorNotRunning if the reactor is not running.
   */
  stop(): void;
  /** Runs `fn(...args)` once the reactor is running (soon, if it already is). */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void;
  /**
   * Adds a hook around startup or shutdown. A trigger may return a Deferred or
   * a promise; the next phase waits for it.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    fn: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerId;
  /** Removes a trigger added with {@link IReactorCore.addSystemEventTrigger}. */
  removeSystemEventTrigger(id: SystemEventTriggerId): void;
}

// ---------------------------------------------------------------- producers and consumers

/** Something that produces data and can be told to stop for good. */
export interface IProducer {
  /** Stop producing data, for good: the consumer is going away. */
  stopProducing(): void;
}

/**
 * A streaming producer: it writes whenever it has data until told to pause.
 * The consumer calls `pauseProducing()` when its buffer is full and
 * `resumeProducing()` when it has drained.
 */
export interface IPushProducer extends IProducer {
  pauseProducing(): void;
  resumeProducing(): void;
}

/** A pull producer: it writes one chunk each time the consumer calls `resumeProducing()`. */
export interface IPullProducer extends IProducer {
  resumeProducing(): void;
}

/** Something bytes can be written into, at the pace a producer sets. */
export interface IConsumer {
  /**
   * Attaches a producer. `streaming` true means an {@link IPushProducer}
   * (paused and resumed by the consumer's buffer level); false means an
   * {@link IPullProducer} (asked for more each time the buffer drains).
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void;
  /** Detaches the producer. */
  unregisterProducer(): void;
  write(data: WriteData): void;
}

// ---------------------------------------------------------------- transports

/**
 * A byte stream to a peer. Calls are "thrown over the wall": `write()` never
 * blocks and never fails synchronously for network reasons; problems arrive
 * later as `connectionLost(reason)`.
 */
export interface ITransport {
  /**
   * Queues bytes for the peer. As in Twisted, writes are accepted until the
   * write side has actually closed: after `loseConnection()` or
   * `loseWriteConnection()` they are still sent for as long as earlier
   * output is waiting to be flushed (the FIN goes out once everything is),
   * and silently ignored after the FIN, an abort or an error.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void;
  /** Writes each item in order; same as calling `write()` on each. */
  writeSequence(data: Iterable<WriteData>): void;
  /**
   * Closes the connection once all queued data was sent (and any registered
   * producer was unregistered). Reading stops at once.
   */
  loseConnection(): void;
  /** This end's address. */
  getHost(): IAddress;
  /** The remote end's address. */
  getPeer(): IAddress;
  /** True once `loseConnection()` or `abortConnection()` was called, or the connection is gone. */
  readonly disconnecting: boolean;
}

/**
 * A stream connection (TCP, TLS, UNIX): a transport that is also a push
 * producer (its reads) and a consumer (its writes), and can be aborted and
 * half-closed.
 */
export interface IStreamTransport extends ITransport, IPushProducer, IConsumer {
  /** Closes now, dropping unsent data (TCP RST). `connectionLost` gets a ConnectionAborted. */
  abortConnection(): void;
  /** Sends FIN after queued data drains; reading continues (half-close). */
  loseWriteConnection(): void;
}

/** A TCP connection: a stream transport between two IP addresses, with TCP's socket options. */
export interface ITCPTransport extends IStreamTransport {
  getHost(): INETAddress;
  getPeer(): INETAddress;
  setTcpNoDelay(enabled: boolean): void;
  getTcpNoDelay(): boolean;
  /** Enables TCP keep-alive probes; `initialDelaySeconds` is the idle time before the first. */
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds?: number): void;
  getTcpKeepAlive(): boolean;
}

// ---------------------------------------------------------------- protocols

/**
 * Handles one connection. Call order, always:
 * `makeConnection → connectionMade → dataReceived* → connectionLost` (exactly once).
 */
export interface IProtocol {
  /** Called by the transport to attach itself; base classes call `connectionMade()`. */
  makeConnection(transport: ITransport): void;
  /** The connection is up; `this.transport` is set. */
  connectionMade(): void;
  /**
   * Bytes arrived. Chunk boundaries mean nothing: one message may arrive in
   * many calls and many messages in one call.
   */
  dataReceived(data: Buffer): void;
  /**
   * The connection is gone. `reason` wraps a ConnectionDone (clean close) or a
   * ConnectionLost (reset, error, abort, or an exception thrown by the protocol).
   */
  connectionLost(reason: Failure): void;
}

/**
 * A protocol that wants to know about each direction closing separately. With
 * it, the peer's FIN calls `readConnectionLost()` and the protocol may keep
 * writing; without it the connection finishes after everything was flushed.
 */
export interface IHalfCloseableProtocol {
  /** The peer will send no more data (it sent FIN). */
  readConnectionLost(): void;
  /** This side's FIN was sent (after `loseWriteConnection()`), or writing failed. */
  writeConnectionLost(): void;
}

/**
 * A protocol that wants to hear that its server is draining: it stopped
 * accepting connections and will abort this one at `deadline`. The runner
 * (`torsion`) calls it once per live connection on SIGTERM/SIGINT; Twisted
 * has no equivalent. Optional: a protocol without it is left alone until the
 * peer closes or the deadline aborts it.
 *
 * A protocol with message boundaries finishes the message in hand and then
 * calls `loseConnection()` (an idle one at once); one that must say goodbye
 * (a banner, a GOAWAY) writes it here.
 */
export interface IDrainableProtocol {
  /**
   * The server is draining; the connection will be aborted at `deadline`,
   * in the reactor's seconds (compare with `reactor.seconds()`). Called at
   * most once, and only on a connected protocol.
   */
  serverDraining(deadline: number): void;
}

/** Builds protocols for new connections. */
export interface IProtocolFactory {
  /**
   * Builds the protocol for a connection from/to `addr`. Returning `null`
   * refuses the connection (it is closed at once).
   */
  buildProtocol(addr: IAddress): IProtocol | null;
  /** Called by ports and connectors when they start using the factory. Users do not call it. */
  doStart(): void;
  /** Called by ports and connectors when they stop using the factory. Users do not call it. */
  doStop(): void;
}

/**
 * A factory that opts in to the Node reactor's fast read path on TCP ports:
 * with `readsIntoSharedBuffer` true, the `data` given to `dataReceived` may
 * be a view of a read buffer that the reactor reuses for the next read, so
 * it is valid only until `dataReceived` returns. A protocol that keeps
 * `data` (or a part of it) past that must copy it; passing it to
 * `transport.write()` is safe (the transport copies it). Other reactors,
 * TLS ports and connectors ignore it. See docs/tcp.md, "Reading into a
 * shared buffer".
 */
export interface ISharedReadBufferFactory extends IProtocolFactory {
  readonly readsIntoSharedBuffer: boolean;
}

/** A factory for outgoing connections. */
export interface IClientFactory extends IProtocolFactory {
  /** A connection attempt began. */
  startedConnecting(connector: IConnector): void;
  /** The attempt failed: ConnectionRefusedError, TimeoutError, DNSLookupError, or another ConnectError. */
  clientConnectionFailed(connector: IConnector, reason: Failure): void;
  /** An established connection ended. `connector.connect()` reconnects. */
  clientConnectionLost(connector: IConnector, reason: Failure): void;
}

// ---------------------------------------------------------------- TCP

/** Options for {@link IReactorTCP.listenTCP}. */
export interface ListenTCPOptions {
  /** Pending-connection queue length. Default 4096 (the kernel caps it at `net.core.somaxconn`; Node's own default is 511). */
  backlog?: number;
  /** Address to bind: `'127.0.0.1'`, `'::1'`, `'::'`… Default `''`: every IPv4 interface (and IPv6 where dual-stack). */
  interface?: string;
}

/** Options for {@link IReactorTCP.connectTCP}. */
export interface ConnectTCPOptions {
  /** Seconds before the attempt fails with TimeoutError. Default 30. */
  timeout?: number;
  /** Local address (and optionally port) to connect from. */
  bindAddress?: { host: string; port?: number };
}

/**
 * A listening port (TCP, TLS, or with `A` = `UNIXAddress` a UNIX socket).
 * Returned at once; binding happens asynchronously.
 */
export interface IListeningPort<A extends IAddress = INETAddress> {
  /**
   * Fires with this port once it is bound, or fails with CannotListenError
   * (in use, no permission). After it fires, `getHost().port` is the real port
   * even when 0 was asked for.
   */
  whenListening(): Deferred<IListeningPort<A>>;
  /** Stops accepting connections; fires once the port is closed. Open connections stay. */
  stopListening(): Deferred<void>;
  /** The bound address (port 0 until bound). */
  getHost(): A;
  /**
   * The connections this port accepted that are still open (as Node's
   * `server.getConnections()` counts them), including those a wrapping
   * factory has not handed to its protocol yet (a `haproxy:` connection
   * waiting for its PROXY header). Still answers after `stopListening()`,
   * which leaves them open: that is how a graceful drain finds them. A live
   * view; copy it before closing connections while iterating.
   */
  connections(): Iterable<IStreamTransport>;
  /** How many connections {@link IListeningPort.connections} holds. */
  readonly connectionCount: number;
}

/** Connection state of an {@link IConnector}. */
export type ConnectorState = 'disconnected' | 'connecting' | 'connected';

/** An outgoing connection, which can be retried. */
export interface IConnector {
  readonly state: ConnectorState;
  /** Starts (or restarts, after a failure or loss) the connection attempt. */
  connect(): void;
  /** Cancels an attempt in progress, or closes the established connection. */
  disconnect(): void;
  /** Cancels an attempt in progress. @throws NotConnectingError if not connecting. */
  stopConnecting(): void;
  /** Where this connector connects to. */
  getDestination(): IAddress;
  /**
   * The reactor that made this connector, whose clock a client factory uses
   * for what it schedules about it (a ReconnectingClientFactory's retries),
   * as Twisted's connectors carry their `reactor`. Optional: a connector that
   * does not say leaves the factory to its own clock or the default reactor.
   */
  readonly reactor?: IReactorTime | undefined;
}

/** TCP listen and connect. */
export interface IReactorTCP {
  /**
   * Listens on `port` (0 = any free port) and builds a protocol from `factory`
   * for each connection. Returns at once; see {@link IListeningPort.whenListening}.
   */
  listenTCP(port: number, factory: IProtocolFactory, options?: ListenTCPOptions): IListeningPort;
  /** Connects to `host:port`; results reach the factory's callbacks. */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: ConnectTCPOptions,
  ): IConnector;
}

// ---------------------------------------------------------------- TLS

/** The peer's certificate as the handshake presented it (Node's `PeerCertificate` fields). */
export interface TLSPeerCertificate {
  /** Subject fields, e.g. `{ CN: 'example.com', O: 'Example' }`. */
  readonly subject: Readonly<Record<string, string | string[] | undefined>>;
  /** Issuer fields. */
  readonly issuer: Readonly<Record<string, string | string[] | undefined>>;
  /** Subject alternative names as OpenSSL prints them: `'DNS:example.com, IP Address:127.0.0.1'`. */
  readonly subjectaltname?: string;
  /** Start of validity, e.g. `'Dec  4 20:00:00 2026 GMT'`. */
  readonly valid_from: string;
  /** End of validity. */
  readonly valid_to: string;
  /** Hex serial number. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint256: string;
  /** The certificate in DER. */
  readonly raw: Buffer;
}

/** The cipher suite a handshake settled on. */
export interface TLSCipher {
  /** OpenSSL's name, e.g. `'TLS_AES_256_GCM_SHA384'`. */
  readonly name: string;
  /** The IETF name. */
  readonly standardName: string;
  /** The lowest TLS version the suite works with, e.g. `'TLSv1.3'`. */
  readonly version: string;
}

/**
 * A connection that speaks TLS, or can switch to it. Every Torsion TCP
 * transport is one: the information methods return `null` until a handshake
 * has completed (on a plaintext connection, always).
 */
export interface ITLSTransport extends ITCPTransport {
  /**
   * Switches a plaintext connection to TLS, as this side's `options` say
   * (client options start a handshake, server options answer one). Bytes
   * written before the call go out in plaintext, in order, before the
   * handshake; bytes written after it are encrypted. Plaintext that arrives
   * after the call is never delivered as if it were protected: see
   * {@link ITLSStartingListener}.
   * @throws Error if TLS was already started or the connection is closing.
   * @throws TypeError if `options` were not made by `serverTLSOptions()` or `optionsForClientTLS()`.
   */
  startTLS(options: ClientTLSOptions | ServerTLSOptions): void;
  /** True once a TLS handshake on this connection has completed. */
  readonly secure: boolean;
  /** The peer's certificate; `null` before the handshake or when the peer sent none. */
  getPeerCertificate(): TLSPeerCertificate | null;
  /** The ALPN protocol both sides agreed on; `null` if none (Twisted's `negotiatedProtocol`). */
  readonly negotiatedProtocol: string | null;
  /** The cipher suite; `null` before the handshake. */
  getCipher(): TLSCipher | null;
  /** `'TLSv1.2'` or `'TLSv1.3'`; `null` before the handshake. */
  getTLSVersion(): string | null;
}

/**
 * A protocol that wants to know when its TLS handshake has completed
 * (Twisted's `IHandshakeListener`). Over `listenSSL`/`connectSSL` it runs
 * right after `connectionMade()` (the protocol is connected only once the
 * handshake is done); after `startTLS()`, once the switch completed.
 */
export interface IHandshakeListener {
  handshakeCompleted(): void;
}

/**
 * A protocol that holds received bytes it has not handled yet (a framing
 * receiver's buffer) and must drop them when the connection switches to TLS:
 * they arrived in plaintext after the point where the switch was asked for,
 * so handling them later as if TLS had protected them is the STARTTLS
 * command-injection bug (CVE-2011-0411). The transport calls it from inside
 * `startTLS()`; the receivers of `@torsion/line` implement it.
 */
export interface ITLSStartingListener {
  /** Drop every received byte not yet handled, and stop handling the rest of the current `dataReceived` chunk. */
  tlsStarting(): void;
}

/** Options for {@link IReactorSSL.listenSSL}: as for TCP. */
export type ListenSSLOptions = ListenTCPOptions;
/** Options for {@link IReactorSSL.connectSSL}: as for TCP. */
export type ConnectSSLOptions = ConnectTCPOptions;

/** A listening TLS port: a TCP port whose certificates can be replaced while it listens. */
export interface ISSLListeningPort extends IListeningPort {
  /**
   * Uses `options` for connections accepted from now on (certificate reload);
   * connections already open keep theirs.
   * @throws TypeError if `options` were not made by `serverTLSOptions()`.
   */
  setTLSOptions(options: ServerTLSOptions): void;
}

/** TLS listen and connect (Twisted's `IReactorSSL`). */
export interface IReactorSSL {
  /**
   * Listens on `port` and speaks TLS as `options` say. Each connection's
   * protocol is built and connected once its handshake completed; a failed or
   * timed-out handshake is logged and costs only that connection.
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions?: ListenSSLOptions,
  ): ISSLListeningPort;
  /**
   * Connects to `host:port` and speaks TLS as `options` say (made by
   * `optionsForClientTLS`, which verifies the server by default). The
   * protocol is connected once the handshake completed; a failed handshake
   * reaches `clientConnectionFailed` as a TLSError.
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions?: ConnectSSLOptions,
  ): IConnector;
}

// ---------------------------------------------------------------- UNIX

/** Options for {@link IReactorUNIX.listenUNIX}. */
export interface ListenUNIXOptions {
  /** Pending-connection queue length. Default 4096 (capped by the kernel at `net.core.somaxconn`). */
  backlog?: number;
  /**
   * Permission bits of the socket file, applied before the first client can
   * connect. Default `0o666` (as Twisted), further restricted by nothing else.
   * Not used for an abstract-namespace name.
   */
  mode?: number;
  /**
   * Keep a `<path>.lock` file holding this process's PID while listening
   * (Twisted's `wantPID`): a stale socket file is replaced only when the lock's
   * process is gone, a live server's is never stolen.
   */
  wantPID?: boolean;
}

/** Options for {@link IReactorUNIX.connectUNIX}. */
export interface ConnectUNIXOptions {
  /** Seconds before the attempt fails with TimeoutError. Default 30. */
  timeout?: number;
  /** Refuse to connect unless `<path>.lock` names a live process (Twisted's `checkPID`). */
  checkPID?: boolean;
}

/** A UNIX-domain stream connection: the stream transport contract between two {@link UNIXAddress}es. */
export interface IUNIXTransport extends IStreamTransport {
  getHost(): UNIXAddress;
  getPeer(): UNIXAddress;
}

/**
 * UNIX-domain stream sockets (Twisted's `IReactorUNIX`). A `path` starting with
 * a NUL character (`'\0name'`) is a Linux abstract-namespace name.
 */
export interface IReactorUNIX {
  /**
   * Listens on the socket file `path`. A file left by a server that is gone is
   * replaced; one a live server listens on is not (`CannotListenError`).
   * `stopListening()` removes the file.
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options?: ListenUNIXOptions,
  ): IListeningPort<UNIXAddress>;
  /** Connects to the socket file `path`; results reach the factory's callbacks. */
  connectUNIX(path: string, factory: IClientFactory, options?: ConnectUNIXOptions): IConnector;
}

// ---------------------------------------------------------------- UDP

/** Where a datagram goes: an address a UDP transport reported, or a literal host and port. */
export type DatagramDestination = INETAddress | { readonly host: string; readonly port: number };

/**
 * A datagram protocol (Twisted's `DatagramProtocol`): one instance serves
 * one UDP port. `DatagramProtocol` in `@torsion/core` is the base class.
 */
export interface IDatagramProtocol {
  /** Attaches the port's transport; called by the reactor before `startProtocol()`. */
  makeConnection(transport: IUDPTransport): void;
  /** The port is bound and `transport` usable. */
  startProtocol(): void;
  /** The port has stopped listening. */
  stopProtocol(): void;
  /**
   * One datagram arrived from `address` (type `'UDP'`; `transport.write`
   * takes it back as a destination). An exception is logged and costs only
   * that datagram.
   */
  datagramReceived(data: Buffer, address: INETAddress): void;
  /**
   * On a connected transport: the peer's port was closed (ICMP port
   * unreachable) when a datagram was sent to it.
   */
  connectionRefused(): void;
}

/** Options for {@link IReactorUDP.listenUDP}. */
export interface ListenUDPOptions {
  /** Address to bind: `'127.0.0.1'`, `'::1'`, `'::'`… Default `''`: every IPv4 interface. */
  interface?: string;
  /**
   * The largest datagram delivered, 1 to 65535 bytes; longer ones are
   * truncated to it before `datagramReceived` (as Twisted's `recvfrom` does;
   * Node and Bun read whole datagrams, so the port cuts them). Default 8192
   * (Twisted's).
   */
  maxPacketSize?: number;
  /**
   * Let other sockets bind the same port too (`SO_REUSEADDR`; Twisted's
   * `listenMultiple`), for several multicast listeners on one host. Default false.
   */
  listenMultiple?: boolean;
}

/**
 * A UDP port and its transport (Twisted's `IUDPTransport` and
 * `IMulticastTransport`): the protocol writes through it.
 */
export interface IUDPTransport {
  /**
   * Sends one datagram. `address` is required unless the transport is
   * connected, and refused if it is (unless it is the peer's). A datagram too
   * large to send is refused with a typed error, never a crash of the process.
   * @throws MessageLengthError over 65,507 bytes (IPv4) or 65,527 (IPv6).
   * @throws InvalidAddressError for a host name, the other address family,
   *   a missing address or another one on a connected transport.
   * @throws UDPNotListeningError before the bind completed or after `stopListening()`.
   */
  write(data: WriteData, address?: DatagramDestination): void;
  /**
   * Connects to one peer (an IP literal): `write(data)` then goes there and
   * only its datagrams are received. Once only.
   * @throws UDPAlreadyConnectedError the second time; InvalidAddressError for a host name.
   */
  connect(host: string, port: number): void;
  /** The bound address (port 0 until bound). */
  getHost(): INETAddress;
  /** Stops listening; fires once the port is closed and `stopProtocol()` has run. */
  stopListening(): Deferred<void>;
  setBroadcastAllowed(enabled: boolean): void;
  getBroadcastAllowed(): boolean;
  /** Joins a multicast group on `iface` (default: the system's choice). */
  joinGroup(address: string, iface?: string): Deferred<void>;
  leaveGroup(address: string, iface?: string): Deferred<void>;
  setTTL(ttl: number): void;
  getTTL(): number;
  setLoopbackMode(enabled: boolean): void;
  getLoopbackMode(): boolean;
  setOutgoingInterface(iface: string): Deferred<void>;
}

/** A listening UDP port, as `listenUDP` returns it. */
export interface IUDPPort extends IListeningPort {
  /** The transport the protocol was given. */
  readonly transport: IUDPTransport;
}

/** UDP (Twisted's `IReactorUDP` and `IReactorMulticast`). */
export interface IReactorUDP {
  /**
   * Binds `port` (0 = any free port) and gives `protocol` its datagrams.
   * Returns at once; see {@link IListeningPort.whenListening}.
   */
  listenUDP(port: number, protocol: IDatagramProtocol, options?: ListenUDPOptions): IUDPPort;
}

// ---------------------------------------------------------------- processes

/**
 * What the parent does with one of the child's file descriptors (Twisted's
 * `childFDs` values): `'r'` the parent reads what the child writes to it (a
 * pipe), `'w'` the parent writes what the child reads from it (a pipe), a
 * number: the child inherits the parent's descriptor of that number.
 */
export type ChildFDMode = 'r' | 'w' | number;

/**
 * A signal {@link IProcessTransport.signalProcess} sends: a name without the
 * `SIG` prefix, as Twisted takes it, or with it, or a number.
 */
export type ProcessSignal =
  | 'TERM'
  | 'KILL'
  | 'INT'
  | 'HUP'
  | 'QUIT'
  | 'USR1'
  | 'USR2'
  | 'STOP'
  | 'CONT'
  | `SIG${string}`
  | number;

/** Options for {@link IReactorProcess.spawnProcess}. */
export interface SpawnProcessOptions {
  /**
   * The child's environment. Default `'inherit'`: a copy of the parent's
   * (what Node users expect; Twisted's default is an empty environment,
   * which is `'empty'` here). An object is the whole environment, exactly:
   * add to the parent's with `{ ...process.env, NAME: 'value' }`.
   */
  env?: 'inherit' | 'empty' | Readonly<Record<string, string | undefined>>;
  /** The child's working directory. Default: the parent's. */
  path?: string;
  /**
   * The child's descriptors (Twisted's `childFDs`). Default
   * `{ 0: 'w', 1: 'r', 2: 'r' }`. A descriptor not listed is closed in the
   * child. Any descriptor number may be a pipe (`3: 'r'` reads what the child
   * writes to fd 3).
   */
  childFDs?: Readonly<Record<number, ChildFDMode>>;
  /** Run the child as this user id (needs privileges). */
  uid?: number;
  /** Run the child as this group id (needs privileges). */
  gid?: number;
  /** The child's `argv[0]`. Default: `executable`. */
  argv0?: string;
}

/**
 * The transport of a child process (Twisted's `IProcessTransport`): writes go
 * to the child's stdin, reads come from its output pipes. It is a consumer
 * (producers and backpressure on stdin exactly as on a TCP transport) and a
 * push producer (`pauseProducing()` stops reading the child's output).
 */
export interface IProcessTransport
  extends Omit<ITransport, 'getHost' | 'getPeer'>, IPushProducer, IConsumer {
  /** The child's pid; null when it could not be started, and once it has exited (as Twisted). */
  readonly pid: number | null;
  /**
   * Writes to the child's descriptor `childFD` (one the parent writes:
   * `'w'` in `childFDs`); `write()` is `writeToChild(0, data)`.
   * @throws RangeError if `childFD` is not a descriptor the parent writes to.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  writeToChild(childFD: number, data: WriteData): void;
  /** Closes the child's stdin once what was written to it was flushed (the child reads EOF). */
  closeStdin(): void;
  /** Stops reading the child's stdout and closes the parent's end of the pipe. */
  closeStdout(): void;
  /** Stops reading the child's stderr and closes the parent's end of the pipe. */
  closeStderr(): void;
  /** Closes the parent's end of the pipe to the child's descriptor `childFD` (flushing a write pipe first). */
  closeChildFD(childFD: number): void;
  /**
   * Sends a signal to the child.
   * @throws ProcessExitedAlready once the child has exited.
   * @throws RangeError for an unknown signal name.
   */
  signalProcess(signal: ProcessSignal): void;
  /** Closes every pipe to the child (stdin after a flush); does not signal it. */
  loseConnection(): void;
  /** Writes each item to stdin in order. */
  writeSequence(data: Iterable<WriteData>): void;
  getHost(): ProcessAddress;
  getPeer(): ProcessAddress;
}

/**
 * Handles one child process (Twisted's `IProcessProtocol`). Call order:
 * `makeConnection` → (`childDataReceived` | `childConnectionLost`)* →
 * `processExited` → … → `processEnded` (once, after the exit *and* every
 * pipe closed). `ProcessProtocol` is the base class with Twisted's
 * per-stream callbacks.
 */
export interface IProcessProtocol {
  /** Attaches the transport; the base class then calls `connectionMade()`. */
  makeConnection(transport: IProcessTransport): void;
  /** The child wrote `data` to its descriptor `childFD`. */
  childDataReceived(childFD: number, data: Buffer): void;
  /** The pipe to the child's descriptor `childFD` closed. */
  childConnectionLost(childFD: number): void;
  /**
   * The child exited (pipes may still be open): `reason` wraps ProcessDone
   * (status 0), ProcessTerminated (non-zero status or a signal) or
   * ProcessSpawnError (it never started).
   */
  processExited(reason: Failure): void;
  /** The child exited and every pipe to it closed; `reason` as for `processExited`. */
  processEnded(reason: Failure): void;
}

/** Running child processes (Twisted's `IReactorProcess`). */
export interface IReactorProcess {
  /**
   * Starts `executable` (looked up on `PATH` when it has no slash) with
   * `args` — the arguments after `argv[0]`, as Node's `spawn` takes them
   * (Twisted's `args` starts with `argv[0]`) — and connects
   * `processProtocol` to it before returning. A child that cannot be started
   * is not an exception: `processExited`/`processEnded` get a
   * ProcessSpawnError on a later turn.
   * @throws TypeError / RangeError for malformed arguments or options, naming the field.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args?: readonly string[],
    options?: SpawnProcessOptions,
  ): IProcessTransport;
}

/** A complete reactor: what `getReactor()` returns and what APIs accept. */
export type IReactor = IReactorCore & IReactorTime & IReactorTCP;

/** A reactor that also speaks TLS: NodeReactor, BunReactor and SimulatedReactor. */
export type ITLSReactor = IReactor & IReactorSSL;

// ---------------------------------------------------------------- Endpoints

/**
 * Where to listen, as an object (Twisted's `IStreamServerEndpoint`): a
 * program takes one from configuration (`serverFromString`) and need not know
 * whether it is TCP, TLS, a UNIX socket or an inherited descriptor.
 */
export interface IStreamServerEndpoint {
  /**
   * Starts listening with `factory`; fires with the port once it is bound,
   * or fails with CannotListenError (or the error the reactor threw).
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort<IAddress>>;
}

/**
 * Where to connect, as an object (Twisted's `IStreamClientEndpoint`).
 */
export interface IStreamClientEndpoint {
  /**
   * Connects, building the protocol with `factory`; fires with that protocol
   * once it is connected (after `connectionMade()`), or fails with the
   * ConnectError the attempt ended with. Cancelling the Deferred while it
   * connects stops the attempt, leaves no socket, and fails it with
   * `ConnectingCancelledError` (a CancelledError).
   */
  connect<P extends IProtocol>(factory: IEndpointProtocolFactory<P>): Deferred<P>;
}

/**
 * What an endpoint's `connect()` needs: a protocol factory (its
 * `startedConnecting`/`clientConnection*` are not called; the Deferred
 * carries the outcome).
 */
export interface IEndpointProtocolFactory<P extends IProtocol = IProtocol> {
  buildProtocol(addr: IAddress): P | null;
  doStart(): void;
  doStop(): void;
}

/** Where to receive datagrams (`udp:` strings): binds a datagram protocol. */
export interface IDatagramServerEndpoint {
  /** Binds `protocol`; fires with the UDP port once it is bound. */
  listen(protocol: IDatagramProtocol): Deferred<IUDPPort>;
}

/** One address a host name resolved to. */
export interface ResolvedAddress {
  /** An IPv4 or IPv6 address literal. */
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Turns a host name into addresses (Twisted's `IHostnameResolver`, reduced to
 * what endpoints need). Injected into `HostnameEndpoint`, so tests decide what
 * a name resolves to.
 */
export interface INameResolver {
  /**
   * Every address of `name`, in the order the resolver prefers. Fails with a
   * DNSLookupError when the name does not resolve (never fires with an empty list).
   */
  resolveHostName(name: string): Deferred<readonly ResolvedAddress[]>;
}

/** A reactor with its own name resolution (Twisted's `IReactorPluggableNameResolver`). */
export interface IReactorPluggableNameResolver {
  readonly nameResolver: INameResolver;
}

/** The address families {@link IReactorSocket.adoptStreamPort} takes. */
export type AdoptedSocketFamily = 'INET' | 'INET6' | 'UNIX';

/**
 * Listening on a socket this process inherited (Twisted's `IReactorSocket`),
 * as systemd socket activation hands them over.
 */
export interface IReactorSocket {
  /**
   * Accepts connections on the listening socket `fd` (already bound and
   * listening; `family` says what addresses it has). The port does not close
   * `fd` until `stopListening()`.
   * @throws Error naming the capability where the reactor has no descriptors.
   */
  adoptStreamPort(
    fd: number,
    family: AdoptedSocketFamily,
    factory: IProtocolFactory,
  ): IListeningPort<IAddress>;
}
