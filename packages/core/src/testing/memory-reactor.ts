/**
 * `MemoryReactor` and `MemoryReactorClock`: reactors that record what is
 * asked of them (`listenTCP`, `connectTCP`, `listenSSL`, `connectSSL`,
 * `listenUNIX`, `connectUNIX`, triggers) instead of touching the network, so code that takes a reactor can be tested in memory (Twisted's
 * `twisted.internet.testing.MemoryReactor`).
 *
 * Tests: test/testing/memory-reactor.test.ts, test/testing/memory-reactor-unix.test.ts,
 * test/types/doubles.test-d.ts
 * @module
 */
import { addressFor, UNIXAddress } from '../address.js';
import type { IAddress, INETAddress } from '../address.js';
import { Clock } from '../clock.js';
import { Deferred, succeed } from '../deferred.js';
import {
  ConnectionDone,
  ConnectionRefusedError,
  NotConnectingError,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
  UserError,
} from '../errors.js';
import { Failure } from '../failure.js';
import { isThenable } from '../is-thenable.js';
import type {
  ConnectorState,
  ConnectSSLOptions,
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IClientFactory,
  IConnector,
  IDelayedCall,
  IHandshakeListener,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IReactor,
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
  ISSLListeningPort,
  ListenSSLOptions,
  ListenTCPOptions,
  ListenUDPOptions,
  ListenUNIXOptions,
  IDatagramProtocol,
  IReactorUDP,
  IReactorSocket,
  AdoptedSocketFamily,
  SystemEventPhase,
  SystemEventTriggerId,
  SystemEventType,
} from '../interfaces.js';
import { Logger } from '../log.js';
import { StringTransport } from './string-transport.js';
import { markDisconnected } from '../internal/mark-disconnected.js';
import {
  checkConnectTCP,
  checkConnectUNIX,
  checkListenTCP,
  checkListenUNIX,
} from '../reactor-kit/argument-checks.js';
import { checkAdoptStreamPort } from '../internal/adopt-checks.js';
import { checkTLSOptions } from '../tls-options.js';
import { checkListenUDP } from '../reactor-kit/base-udp-port.js';
import { FakeUDPPort } from './fake-udp-port.js';
import { FakeProcessTransport } from './fake-process.js';
import { checkSpawnProcess, type SpawnSettings } from '../process/spawn-checks.js';
import type { IProcessProtocol, IReactorProcess, SpawnProcessOptions } from '../interfaces.js';
import type { ClientTLSOptions, ServerTLSOptions } from '../tls-options.js';

const log = new Logger('torsion.testing.reactor');

/** The first port a {@link MemoryReactor} hands out when port 0 is asked for. */
export const FIRST_FAKE_PORT = 49152;
/** The pid of the first child `MemoryReactor.spawnProcess` fakes. */
const FIRST_FAKE_PID = 1000;

/** A `listenTCP` call, as {@link MemoryReactor.tcpServers} records it. */
export interface TCPServerRecord {
  /** The port asked for (0 stays 0 here; the assigned one is `listeningPort.getHost().port`). */
  readonly port: number;
  readonly factory: IProtocolFactory;
  /** The backlog asked for, or the default 4096. */
  readonly backlog: number;
  /** The interface asked for, or the default `''`. */
  readonly interface: string;
  /** The port object `listenTCP` returned. */
  readonly listeningPort: FakeListeningPort;
}

/** A `listenUDP` call, as {@link MemoryReactor.udpPorts} records it. */
export interface UDPPortRecord {
  /** The port asked for (0 stays 0 here; the assigned one is `udpPort.getHost().port`). */
  readonly port: number;
  readonly protocol: IDatagramProtocol;
  /** The interface asked for, or the default `''`. */
  readonly interface: string;
  /** The `maxPacketSize` asked for, or the default 8192. */
  readonly maxPacketSize: number;
  readonly listenMultiple: boolean;
  /** The port object `listenUDP` returned: deliver datagrams to it, read what was sent. */
  readonly udpPort: FakeUDPPort;
}

/** An `adoptStreamPort` call, as {@link MemoryReactor.adoptedPorts} records it. */
export interface AdoptedPortRecord {
  readonly fd: number;
  readonly family: AdoptedSocketFamily;
  readonly factory: IProtocolFactory;
  /** The port object `adoptStreamPort` returned, already listening. */
  readonly listeningPort: FakeListeningPort;
}

/** A `spawnProcess` call, as {@link MemoryReactor.processes} records it. */
export interface ProcessRecord {
  readonly executable: string;
  readonly args: readonly string[];
  /** Everything asked for, defaults filled in (env `null` = inherited). */
  readonly settings: SpawnSettings;
  readonly processProtocol: IProcessProtocol;
  /** The transport `spawnProcess` returned: play the child with it. */
  readonly process: FakeProcessTransport;
}

/** A `connectTCP` call, as {@link MemoryReactor.tcpClients} records it. */
export interface TCPClientRecord {
  readonly host: string;
  readonly port: number;
  readonly factory: IClientFactory;
  /** The timeout asked for, or the default 30. */
  readonly timeout: number;
  /** The bind address asked for, or `null`. */
  readonly bindAddress: { readonly host: string; readonly port?: number } | null;
  /** The connector `connectTCP` returned. */
  readonly connector: FakeConnector;
}

/** A `listenSSL` call, as {@link MemoryReactor.sslServers} records it. */
export interface SSLServerRecord {
  /** The port asked for (0 stays 0 here; the assigned one is `listeningPort.getHost().port`). */
  readonly port: number;
  readonly factory: IProtocolFactory;
  /** The TLS options given to `listenSSL` (the port's current ones are `listeningPort.tlsOptions`). */
  readonly options: ServerTLSOptions;
  /** The backlog asked for, or the default 4096. */
  readonly backlog: number;
  /** The interface asked for, or the default `''`. */
  readonly interface: string;
  /** The port object `listenSSL` returned. */
  readonly listeningPort: FakeSSLListeningPort;
}

/** A `connectSSL` call, as {@link MemoryReactor.sslClients} records it. */
export interface SSLClientRecord {
  readonly host: string;
  readonly port: number;
  readonly factory: IClientFactory;
  /** The TLS options given to `connectSSL`. */
  readonly options: ClientTLSOptions;
  /** The timeout asked for, or the default 30. */
  readonly timeout: number;
  /** The bind address asked for, or `null`. */
  readonly bindAddress: { readonly host: string; readonly port?: number } | null;
  /** The connector `connectSSL` returned. */
  readonly connector: FakeSSLConnector;
}

/** A `listenUNIX` call, as {@link MemoryReactor.unixServers} records it. */
export interface UNIXServerRecord {
  readonly path: string;
  readonly factory: IProtocolFactory;
  /** The backlog asked for, or the default 4096. */
  readonly backlog: number;
  /** The mode asked for, or the default `0o666`. */
  readonly mode: number;
  readonly wantPID: boolean;
  /** The port object `listenUNIX` returned. */
  readonly listeningPort: FakeListeningPort<UNIXAddress>;
}

/** A `connectUNIX` call, as {@link MemoryReactor.unixClients} records it. */
export interface UNIXClientRecord {
  readonly path: string;
  readonly factory: IClientFactory;
  /** The timeout asked for, or the default 30. */
  readonly timeout: number;
  readonly checkPID: boolean;
  /** The connector `connectUNIX` returned. */
  readonly connector: FakeConnector<UNIXAddress>;
}

/** A system event trigger, as {@link MemoryReactor.triggers} records it. */
export interface TriggerRecord {
  readonly id: SystemEventTriggerId;
  readonly phase: SystemEventPhase;
  readonly eventType: SystemEventType;
  readonly fn: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
}

/** A protocol connected to a {@link StringTransport} by a fake port or connector. */
export interface FakeConnection<P extends IProtocol = IProtocol, A extends IAddress = INETAddress> {
  readonly protocol: P;
  readonly transport: StringTransport<A>;
}

/**
 * The port {@link MemoryReactor.listenTCP} returns (and `listenUNIX`, with
 * `A` = `UNIXAddress`). It is "bound" at once and can simulate incoming
 * connections with {@link FakeListeningPort.acceptConnection}.
 */
export class FakeListeningPort<A extends IAddress = INETAddress> implements IListeningPort<A> {
  /** The factory given to `listenTCP`. */
  readonly factory: IProtocolFactory;
  readonly #host: A;
  #stopped = false;
  #nextPeerPort = 40000;
  readonly #accepted = new Set<StringTransport<A>>();

  /**
   * @param factory - the factory connections are built with.
   * @param host - the address `getHost()` reports.
   * @remarks Calls `factory.doStart()`, as a real port does once bound.
   */
  constructor(factory: IProtocolFactory, host: A) {
    this.factory = factory;
    this.#host = host;
    factory.doStart();
  }

  /** True once `stopListening()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Fires at once with this port. */
  whenListening(): Deferred<IListeningPort<A>> {
    return succeed<IListeningPort<A>>(this);
  }

  /**
   * Marks the port stopped and calls `factory.doStop()` (the first time);
   * fires at once.
   */
  stopListening(): Deferred<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.factory.doStop();
    }
    const stopped = new Deferred<void>();
    stopped.callback(undefined);
    return stopped;
  }

  /** The address asked for, with a fake port number when 0 was asked. */
  getHost(): A {
    return this.#host;
  }

  /**
   * The transports of {@link FakeListeningPort.acceptConnection} whose
   * `loseConnection()`/`abortConnection()` was not called: a
   * {@link StringTransport} never ends on its own, so a connection counts as
   * open until it is asked to close.
   */
  *connections(): IterableIterator<StringTransport<A>> {
    for (const transport of this.#accepted) {
      if (transport.disconnecting) this.#accepted.delete(transport);
      else yield transport;
    }
  }

  /** How many {@link FakeListeningPort.connections} there are. */
  get connectionCount(): number {
    let count = 0;
    for (const transport of this.connections()) {
      void transport;
      count += 1;
    }
    return count;
  }

  /**
   * Simulates a client connecting: builds a protocol with the factory and
   * connects it to a {@link StringTransport} (whose host is this port).
   *
   * @param peer - the client's address; default 127.0.0.1 with a fresh port
   *   (on a UNIX port, an unnamed UNIX address, as the kernel reports a client).
   * @returns the protocol and its transport, or `null` if the factory refused.
   * @throws Error if the port was stopped. Errors thrown by the factory or
   *   the protocol's `connectionMade` propagate, so the test sees them.
   */
  acceptConnection(peer?: A): FakeConnection<IProtocol, A> | null {
    if (this.#stopped) throw new Error('The port has stopped listening');
    const peerAddress = peer ?? this.#defaultPeer();
    const protocol = this.factory.buildProtocol(peerAddress);
    if (protocol === null) return null;
    const transport = new StringTransport<A>({ hostAddress: this.#host, peerAddress });
    this.#accepted.add(transport);
    protocol.makeConnection(transport);
    this.connected(protocol);
    return { protocol, transport };
  }

  /** Called right after a protocol was connected; {@link FakeSSLListeningPort} reports the handshake here. */
  protected connected(protocol: IProtocol): void {
    void protocol;
  }

  #defaultPeer(): A {
    if (this.#host.type === 'UNIX') return new UNIXAddress(null) as A;
    return addressFor('TCP', '127.0.0.1', this.#nextPeerPort++) as IAddress as A;
  }
}

/**
 * The port {@link MemoryReactor.listenSSL} returns: a {@link FakeListeningPort}
 * that keeps its TLS options and lets them be replaced, as a real TLS port.
 *
 * @remarks
 * No TLS is spoken: {@link FakeListeningPort.acceptConnection} connects the
 * protocol to a plain {@link StringTransport}, then calls its
 * `handshakeCompleted()` if it has one, in the order a real TLS port uses
 * (the protocol is connected once the handshake is done). To run a protocol
 * over real TLS in memory, use the simulated reactor.
 */
export class FakeSSLListeningPort extends FakeListeningPort implements ISSLListeningPort {
  #tlsOptions: ServerTLSOptions;
  #setTLSOptionsCalls = 0;

  /**
   * @param factory - the factory connections are built with.
   * @param host - the address `getHost()` reports.
   * @param options - the TLS options the port starts with.
   */
  constructor(factory: IProtocolFactory, host: INETAddress, options: ServerTLSOptions) {
    super(factory, host);
    this.#tlsOptions = options;
  }

  /** The options new connections would use: those of `listenSSL`, or of the latest `setTLSOptions()`. */
  get tlsOptions(): ServerTLSOptions {
    return this.#tlsOptions;
  }

  /** How many times `setTLSOptions()` was called. */
  get setTLSOptionsCalls(): number {
    return this.#setTLSOptionsCalls;
  }

  /**
   * Records `options` as the port's current ones (a certificate reload).
   * @throws TypeError if `options` were not made by `serverTLSOptions()`, as a real port.
   */
  setTLSOptions(options: ServerTLSOptions): void {
    checkTLSOptions(options, 'server');
    this.#setTLSOptionsCalls += 1;
    this.#tlsOptions = options;
  }

  protected override connected(protocol: IProtocol): void {
    (protocol as Partial<IHandshakeListener>).handshakeCompleted?.();
  }
}

/**
 * The connector {@link MemoryReactor.connectTCP} returns. It records calls
 * and lets the test decide how each attempt ends:
 * {@link FakeConnector.completeConnection}, {@link FakeConnector.failConnection}
 * and then {@link FakeConnector.dropConnection}.
 *
 * @remarks
 * It follows a real connector's bookkeeping: `connect()` calls
 * `factory.doStart()` (once while in use) and `factory.startedConnecting()`;
 * when an attempt fails or a connection is lost and the factory did not call
 * `connect()` again from its callback, `factory.doStop()` is called.
 */
export class FakeConnector<A extends IAddress = INETAddress> implements IConnector {
  /** The factory given to `connectTCP` (or `connectUNIX`, with `A` = `UNIXAddress`). */
  readonly factory: IClientFactory;
  /** The reactor that made it, when that reactor has a clock ({@link MemoryReactorClock}). */
  readonly reactor: IReactorTime | undefined;
  readonly #destination: A;
  #state: ConnectorState = 'disconnected';
  #factoryStarted = false;
  #connection: FakeConnection<IProtocol, A> | null = null;
  #connectCalls = 0;
  #disconnectCalls = 0;
  #stopConnectingCalls = 0;

  /**
   * @param factory - the client factory to notify.
   * @param destination - what `getDestination()` reports.
   * @param reactor - what `reactor` reports.
   */
  constructor(factory: IClientFactory, destination: A, reactor?: IReactorTime) {
    this.factory = factory;
    this.#destination = destination;
    this.reactor = reactor;
  }

  /** `'connecting'` after `connect()`, `'connected'` after `completeConnection()`, else `'disconnected'`. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** How many times `connect()` was called (including the one `connectTCP` makes). */
  get connectCalls(): number {
    return this.#connectCalls;
  }

  /** How many times `disconnect()` was called. */
  get disconnectCalls(): number {
    return this.#disconnectCalls;
  }

  /** How many times `stopConnecting()` was called. */
  get stopConnectingCalls(): number {
    return this.#stopConnectingCalls;
  }

  /** The connection made by `completeConnection()`, until it is dropped. */
  get connection(): FakeConnection<IProtocol, A> | null {
    return this.#connection;
  }

  /**
   * Starts an attempt: `'connecting'`, `factory.doStart()` if needed, then
   * `factory.startedConnecting(this)`.
   * @throws Error unless the connector is disconnected.
   */
  connect(): void {
    if (this.#state !== 'disconnected') {
      throw new Error(`Cannot connect: the connector is ${this.#state}`);
    }
    this.#connectCalls += 1;
    this.#state = 'connecting';
    if (!this.#factoryStarted) {
      this.#factoryStarted = true;
      this.factory.doStart();
    }
    this.factory.startedConnecting(this);
  }

  /** Stops an attempt in progress, or closes the connection (its transport's `loseConnection()`). */
  disconnect(): void {
    this.#disconnectCalls += 1;
    if (this.#state === 'connecting') this.stopConnecting();
    else if (this.#state === 'connected') this.#connection?.transport.loseConnection();
  }

  /**
   * Cancels the attempt: the factory's `clientConnectionFailed` gets a
   * UserError, as from a real connector.
   * @throws NotConnectingError if not connecting, as a real connector.
   */
  stopConnecting(): void {
    if (this.#state !== 'connecting') {
      throw new NotConnectingError(`Cannot stop connecting: the connector is ${this.#state}`);
    }
    this.#stopConnectingCalls += 1;
    this.failConnection(new UserError('The connection attempt was stopped'));
  }

  getDestination(): A {
    return this.#destination;
  }

  // ------------------------------------------------------------ driving it from a test

  /**
   * Ends the attempt in success: builds the protocol with
   * `factory.buildProtocol(destination)` and connects it to `transport`
   * (default: a new {@link StringTransport} whose peer is the destination;
   * to a UNIX path, its own end is an unnamed UNIX address).
   *
   * @returns the protocol and transport, or `null` if the factory refused
   *   (the attempt then ends as a loss, as on a real connection closed at once).
   * @throws Error if not connecting.
   */
  completeConnection(transport?: StringTransport<A>): FakeConnection<IProtocol, A> | null {
    if (this.#state !== 'connecting') {
      throw new Error(`Cannot complete a connection: the connector is ${this.#state}`);
    }
    const protocol = this.factory.buildProtocol(this.#destination);
    if (protocol === null) {
      this.#state = 'connected';
      this.#ended(new ConnectionDone('The factory refused the connection'), null);
      return null;
    }
    const used = transport ?? new StringTransport<A>({ peerAddress: this.#destination });
    this.#state = 'connected';
    const connection = { protocol, transport: used };
    this.#connection = connection;
    protocol.makeConnection(used);
    this.connected(protocol);
    return connection;
  }

  /** Called right after a protocol was connected; {@link FakeSSLConnector} reports the handshake here. */
  protected connected(protocol: IProtocol): void {
    void protocol;
  }

  /**
   * Ends the attempt in failure: `factory.clientConnectionFailed(this, reason)`.
   * @param reason - default a ConnectionRefusedError.
   * @throws Error if not connecting.
   */
  failConnection(reason: unknown = new ConnectionRefusedError()): void {
    if (this.#state !== 'connecting') {
      throw new Error(`Cannot fail a connection: the connector is ${this.#state}`);
    }
    this.#state = 'disconnected';
    this.factory.clientConnectionFailed(this, new Failure(reason));
    this.#stopFactoryIfIdle();
  }

  /**
   * Ends the established connection: the protocol's `connectionLost(reason)`,
   * then `factory.clientConnectionLost(this, reason)`.
   * @param reason - default a ConnectionDone.
   * @throws Error if not connected.
   */
  dropConnection(reason: unknown = new ConnectionDone()): void {
    if (this.#state !== 'connected') {
      throw new Error(`Cannot drop a connection: the connector is ${this.#state}`);
    }
    const protocol = this.#connection?.protocol ?? null;
    this.#ended(reason, protocol);
  }

  #ended(reason: unknown, protocol: IProtocol | null): void {
    const failure = new Failure(reason);
    this.#connection = null;
    this.#state = 'disconnected';
    if (protocol !== null) {
      markDisconnected(protocol);
      protocol.connectionLost(failure);
    }
    this.factory.clientConnectionLost(this, failure);
    this.#stopFactoryIfIdle();
  }

  // A factory that reconnected from its callback keeps its start.
  #stopFactoryIfIdle(): void {
    if (this.#state === 'disconnected' && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.factory.doStop();
    }
  }
}

/**
 * The connector {@link MemoryReactor.connectSSL} returns: a
 * {@link FakeConnector} that keeps the client's TLS options.
 *
 * @remarks
 * No TLS is spoken: {@link FakeConnector.completeConnection} connects the
 * protocol, then calls its `handshakeCompleted()` if it has one, as a real
 * TLS connector does once the handshake succeeded. A failed handshake is
 * `failConnection(new TLSError(...))`.
 */
export class FakeSSLConnector extends FakeConnector {
  /** The TLS options given to `connectSSL`. */
  readonly tlsOptions: ClientTLSOptions;

  /**
   * @param factory - the client factory to notify.
   * @param destination - what `getDestination()` reports.
   * @param tlsOptions - the client's TLS options.
   * @param reactor - what `reactor` reports.
   */
  constructor(
    factory: IClientFactory,
    destination: INETAddress,
    tlsOptions: ClientTLSOptions,
    reactor?: IReactorTime,
  ) {
    super(factory, destination, reactor);
    this.tlsOptions = tlsOptions;
  }

  protected override connected(protocol: IProtocol): void {
    (protocol as Partial<IHandshakeListener>).handshakeCompleted?.();
  }
}

/**
 * A reactor that records `listenTCP`/`connectTCP` calls and runs its
 * lifecycle (triggers, `callWhenRunning`) without an event loop.
 *
 * @remarks
 * - `listenTCP` returns a {@link FakeListeningPort} that is bound at once;
 *   port 0 gets a fake port number, 49152 (the first ephemeral port) and up.
 * - `connectTCP` returns a {@link FakeConnector} that has called
 *   `startedConnecting`; the test ends the attempt.
 * - `listenSSL` and `connectSSL` do the same with the TLS options recorded
 *   ({@link MemoryReactor.sslServers}, {@link MemoryReactor.sslClients}); no
 *   TLS is spoken, but `handshakeCompleted()` is called after
 *   `connectionMade()`, as over a real TLS connection.
 * - `run()` fires the startup triggers then the `callWhenRunning` calls,
 *   synchronously; `stop()` fires the shutdown triggers. A trigger returning
 *   a Deferred or promise delays the next phase until it settles. Errors
 *   thrown by triggers are logged, as a reactor does.
 * - `callWhenRunning` on a running reactor calls at once.
 * - It has no clock: use {@link MemoryReactorClock} for code that calls `callLater`.
 */
export class MemoryReactor
  implements
    IReactorCore,
    IReactorTCP,
    IReactorSSL,
    IReactorUDP,
    IReactorUNIX,
    IReactorSocket,
    IReactorProcess
{
  /** Every `listenTCP` call, in order. */
  readonly tcpServers: TCPServerRecord[] = [];
  /** Every `connectTCP` call, in order. */
  readonly tcpClients: TCPClientRecord[] = [];
  /** Every `listenSSL` call, in order. */
  readonly sslServers: SSLServerRecord[] = [];
  /** Every `connectSSL` call, in order. */
  readonly sslClients: SSLClientRecord[] = [];
  /** Every `listenUDP` call, in order. */
  readonly udpPorts: UDPPortRecord[] = [];
  /** Every `listenUNIX` call, in order. */
  readonly unixServers: UNIXServerRecord[] = [];
  /** Every `connectUNIX` call, in order. */
  readonly unixClients: UNIXClientRecord[] = [];
  /** Every `spawnProcess` call, in order. */
  readonly processes: ProcessRecord[] = [];
  #nextPid = FIRST_FAKE_PID;
  /** Every `adoptStreamPort` call (a `systemd:` endpoint's), in order. */
  readonly adoptedPorts: AdoptedPortRecord[] = [];
  /** Every connector `connectTCP` or `connectSSL` returned, in order. */
  readonly connectors: FakeConnector[] = [];
  /** Every trigger added and not removed, in order. */
  readonly triggers: TriggerRecord[] = [];
  /** Calls passed to `callWhenRunning` before the reactor ran. */
  readonly whenRunningHooks: { fn: (...args: never[]) => unknown; args: readonly unknown[] }[] = [];
  #running = false;
  #hasRun = false;
  #hasStopped = false;
  #nextPort = FIRST_FAKE_PORT;
  #resolveRun: (() => void) | null = null;

  /** True from `run()` until the shutdown triggers have finished. */
  get running(): boolean {
    return this.#running;
  }

  /** True once `run()` was called. */
  get hasRun(): boolean {
    return this.#hasRun;
  }

  /** True once `stop()` was called. */
  get hasStopped(): boolean {
    return this.#hasStopped;
  }

  /**
   * Fires the startup triggers, then the `callWhenRunning` calls.
   * @returns a promise that resolves once `stop()` was called and the
   *   shutdown triggers have finished.
   * @throws ReactorAlreadyRunning, ReactorNotRestartable
   */
  run(): Promise<void> {
    if (this.#running) throw new ReactorAlreadyRunning();
    if (this.#hasStopped) throw new ReactorNotRestartable();
    this.#running = true;
    this.#hasRun = true;
    const finished = new Promise<void>((resolve) => {
      this.#resolveRun = resolve;
    });
    this.#fireEvent('startup', () => {
      for (const hook of this.whenRunningHooks.splice(0)) {
        this.#callLogged('callWhenRunning', hook.fn, hook.args);
      }
    });
    return finished;
  }

  /**
   * Fires the shutdown triggers; `running` turns false after the last.
   * @throws ReactorNotRunning if not running or already stopping.
   */
  stop(): void {
    if (!this.#running || this.#hasStopped) throw new ReactorNotRunning();
    this.#hasStopped = true;
    this.#fireEvent('shutdown', () => {
      this.#running = false;
      this.#resolveRun?.();
    });
  }

  /** Calls `fn(...args)` at once if running, else records it for `run()`. */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    if (this.#running) {
      this.#callLogged('callWhenRunning', fn, args);
    } else {
      this.whenRunningHooks.push({ fn: fn, args });
    }
  }

  /** Records a trigger; it runs when the event fires. */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    fn: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerId {
    const id = Symbol(`${phase} ${eventType} trigger`);
    this.triggers.push({ id, phase, eventType, fn: fn, args });
    return id;
  }

  /** Forgets a trigger; an unknown id is ignored. */
  removeSystemEventTrigger(id: SystemEventTriggerId): void {
    const index = this.triggers.findIndex((t) => t.id === id);
    if (index >= 0) this.triggers.splice(index, 1);
  }

  /**
   * Records the call and returns a port that is already listening.
   * @remarks Calls `factory.doStart()`, as a real port does once bound.
   * @throws RangeError or TypeError for the arguments every reactor rejects
   *   (a port outside 0..65535, a factory without `buildProtocol`, …).
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): FakeListeningPort {
    const { backlog, iface } = checkListenTCP(port, factory, options);
    const assigned = port === 0 ? this.#nextPort++ : port;
    const host = addressFor('TCP', iface === '' ? '0.0.0.0' : iface, assigned);
    const listeningPort = new FakeListeningPort(factory, host);
    this.tcpServers.push({
      port,
      factory,
      backlog,
      interface: iface,
      listeningPort,
    });
    return listeningPort;
  }

  /**
   * Records the call and returns a UDP port that is already listening: the
   * protocol has had `makeConnection` and `startProtocol`. The test delivers
   * datagrams with {@link FakeUDPPort.deliver} and reads what the protocol
   * sent in {@link FakeUDPPort.sent}.
   * @throws RangeError, TypeError or InvalidAddressError for the arguments every reactor rejects.
   */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenUDPOptions = {},
  ): FakeUDPPort {
    const checked = checkListenUDP(port, protocol, options);
    const assigned = port === 0 ? this.#nextPort++ : port;
    const udpPort = new FakeUDPPort(port, assigned, protocol, checked);
    this.udpPorts.push({
      port,
      protocol,
      interface: options.interface ?? '',
      maxPacketSize: checked.maxPacketSize,
      listenMultiple: checked.listenMultiple,
      udpPort,
    });
    udpPort.startListening();
    return udpPort;
  }

  /**
   * Records the call and returns a port that is already listening, on
   * 0.0.0.0 (`::` for INET6) at a fake port number: no descriptor is
   * touched, so code that serves on inherited sockets is testable anywhere.
   * @remarks Calls `factory.doStart()`, as a real port does once bound.
   * @throws TypeError for a `fd` that is not a non-negative integer or a factory without `buildProtocol`.
   */
  adoptStreamPort(
    fd: number,
    family: AdoptedSocketFamily,
    factory: IProtocolFactory,
  ): FakeListeningPort {
    checkAdoptStreamPort(fd, family, factory);
    const host = addressFor('TCP', family === 'INET6' ? '::' : '0.0.0.0', this.#nextPort++);
    const listeningPort = new FakeListeningPort(factory, host);
    this.adoptedPorts.push({ fd, family, factory, listeningPort });
    return listeningPort;
  }

  /**
   * Records the call and returns a port that is already listening on
   * `path`. No file is made: mode, stale files and `wantPID` are only
   * recorded ({@link MemoryReactor.unixServers}).
   * @remarks Calls `factory.doStart()`, as a real port does once bound.
   * @throws RangeError or TypeError for the arguments every reactor rejects
   *   (an empty or too long path, a bad mode, a factory without `buildProtocol`, …).
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ): FakeListeningPort<UNIXAddress> {
    const { backlog, mode, wantPID } = checkListenUNIX(path, factory, options);
    const listeningPort = new FakeListeningPort(factory, new UNIXAddress(path));
    this.unixServers.push({ path, factory, backlog, mode, wantPID, listeningPort });
    return listeningPort;
  }

  /**
   * Records the call and returns a connector that has started connecting
   * (`factory.startedConnecting` was called); the test ends the attempt
   * ({@link FakeConnector.completeConnection}, {@link FakeConnector.failConnection}).
   * @throws RangeError or TypeError for the arguments every reactor rejects.
   */
  connectUNIX(
    path: string,
    factory: IClientFactory,
    options: ConnectUNIXOptions = {},
  ): FakeConnector<UNIXAddress> {
    const { timeout, checkPID } = checkConnectUNIX(path, factory, options);
    const connector = new FakeConnector(factory, new UNIXAddress(path), this.connectorClock());
    this.unixClients.push({ path, factory, timeout, checkPID, connector });
    connector.connect();
    return connector;
  }

  /**
   * Records the call and returns a fake child, already connected
   * (`connectionMade()` ran) with pid 1000, 1001…: the test plays the child
   * ({@link FakeProcessTransport.childWrites}, {@link FakeProcessTransport.childExits})
   * and reads what the protocol wrote to it.
   * @throws RangeError or TypeError for the arguments every reactor rejects.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[] = [],
    options: SpawnProcessOptions = {},
  ): FakeProcessTransport {
    const settings = checkSpawnProcess(processProtocol, executable, args, options);
    const record = {
      executable,
      args: settings.args,
      settings,
      processProtocol,
      process: null as unknown as FakeProcessTransport,
    };
    this.processes.push(record);
    record.process = new FakeProcessTransport(processProtocol, settings, this.#nextPid++);
    return record.process;
  }

  /** The clock its connectors report as their reactor: none here; {@link MemoryReactorClock} is its own. */
  protected connectorClock(): IReactorTime | undefined {
    return undefined;
  }

  /**
   * Records the call and returns a connector that has started connecting
   * (`factory.startedConnecting` was called).
   * @throws RangeError or TypeError for the arguments every reactor rejects
   *   (an empty host, a port outside 1..65535, a bad timeout, …).
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ConnectTCPOptions = {},
  ): FakeConnector {
    const { timeout } = checkConnectTCP(host, port, factory, options);
    const connector = new FakeConnector(
      factory,
      addressFor('TCP', host, port),
      this.connectorClock(),
    );
    this.tcpClients.push({
      host,
      port,
      factory,
      timeout,
      bindAddress: options.bindAddress ?? null,
      connector,
    });
    this.connectors.push(connector);
    connector.connect();
    return connector;
  }

  /**
   * Records the call and returns a TLS port that is already listening.
   * @remarks Calls `factory.doStart()`, as a real port does once bound.
   * @throws TypeError if `options` were not made by `serverTLSOptions()`, and
   *   RangeError or TypeError for the arguments `listenTCP` rejects.
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions: ListenSSLOptions = {},
  ): FakeSSLListeningPort {
    const { backlog, iface } = checkListenTCP(port, factory, listenOptions);
    checkTLSOptions(options, 'server');
    const assigned = port === 0 ? this.#nextPort++ : port;
    const host = addressFor('TCP', iface === '' ? '0.0.0.0' : iface, assigned);
    const listeningPort = new FakeSSLListeningPort(factory, host, options);
    this.sslServers.push({
      port,
      factory,
      options,
      backlog,
      interface: iface,
      listeningPort,
    });
    return listeningPort;
  }

  /**
   * Records the call and returns a connector that has started connecting
   * (`factory.startedConnecting` was called).
   * @throws TypeError if `options` were not made by `optionsForClientTLS()`,
   *   and RangeError or TypeError for the arguments `connectTCP` rejects.
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    options: ClientTLSOptions,
    connectOptions: ConnectSSLOptions = {},
  ): FakeSSLConnector {
    const { timeout } = checkConnectTCP(host, port, factory, connectOptions);
    checkTLSOptions(options, 'client');
    const connector = new FakeSSLConnector(
      factory,
      addressFor('TCP', host, port),
      options,
      this.connectorClock(),
    );
    this.sslClients.push({
      host,
      port,
      factory,
      options,
      timeout,
      bindAddress: connectOptions.bindAddress ?? null,
      connector,
    });
    this.connectors.push(connector);
    connector.connect();
    return connector;
  }

  #callLogged(what: string, fn: (...args: never[]) => unknown, args: readonly unknown[]): unknown {
    try {
      return (fn as (...a: readonly unknown[]) => unknown)(...args);
    } catch (err) {
      log.failure(`Error in ${what}`, err);
      return undefined;
    }
  }

  // Runs before → during → after; a phase whose triggers returned thenables waits for them.
  #fireEvent(eventType: SystemEventType, then: () => void): void {
    const phases: SystemEventPhase[] = ['before', 'during', 'after'];
    const step = (index: number): void => {
      const phase = phases[index];
      if (phase === undefined) {
        then();
        return;
      }
      const waits: PromiseLike<unknown>[] = [];
      for (const trigger of this.triggers.filter(
        (t) => t.phase === phase && t.eventType === eventType,
      )) {
        const result = this.#callLogged(`${phase} ${eventType} trigger`, trigger.fn, trigger.args);
        if (isThenable(result)) waits.push(result);
      }
      if (waits.length === 0) {
        step(index + 1);
        return;
      }
      void Promise.allSettled(waits).then((outcomes) => {
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            log.failure(`Error in ${phase} ${eventType} trigger`, outcome.reason);
          }
        }
        step(index + 1);
      });
    };
    step(0);
  }
}

/**
 * A {@link MemoryReactor} with a {@link Clock}: `callLater` schedules on fake
 * time that only moves when the test calls `advance()` or `pump()`.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactorClock();
 * const connector = reactor.connectTCP('127.0.0.1', 1079, factory);
 * connector.failConnection();
 * reactor.advance(3); // runs the retry scheduled by the factory
 * ```
 */
export class MemoryReactorClock extends MemoryReactor implements IReactor, IReactorSSL {
  /** The clock behind `seconds`, `callLater`, `advance`… */
  readonly clock = new Clock();

  seconds(): number {
    return this.clock.seconds();
  }

  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    return this.clock.callLater(delaySeconds, fn, ...args);
  }

  getDelayedCalls(): IDelayedCall[] {
    return this.clock.getDelayedCalls();
  }

  /** Moves time forward by `seconds`, running the calls that come due. */
  advance(seconds: number): void {
    this.clock.advance(seconds);
  }

  /** Advances by each amount in turn (see `Clock.pump`). */
  pump(timings: Iterable<number>): void {
    this.clock.pump(timings);
  }

  /** This reactor: a reconnecting factory's retries run when it is advanced. */
  protected override connectorClock(): IReactorTime {
    return this;
  }
}
