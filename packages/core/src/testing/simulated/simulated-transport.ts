/**
 * `SimulatedTransport` and `SimulatedConnection`: a TCP connection between
 * two virtual hosts of a {@link SimulatedNetwork}. Each end is an
 * ITCPTransport with the semantics of Torsion's real TCP transport (close,
 * abort, half-close, producers, default backpressure, fault isolation), most
 * of it from {@link BaseTransport}; the bytes between them travel through two
 * {@link Pipe}s in virtual time.
 *
 * Tests: test/testing/simulated/simulated-transport.test.ts
 * @module
 */
import type { IAddress, INETAddress } from '../../address.js';
import { BaseTransport } from '../../reactor-kit/base-transport.js';
import type { DelayedCall } from '../../delayed-call.js';
import { ConnectionAborted, ConnectionLost } from '../../errors.js';
import { Failure } from '../../failure.js';
import type { IProtocol, WriteData } from '../../interfaces.js';
import type { HandshakeClock } from '../../internal/tls-engine.js';
import type { TLSError } from '../../errors.js';
import type { ClientTLSOptions, ServerTLSOptions } from '../../tls-options.js';
import { describeType } from '../../describe-type.js';
import { Logger } from '../../log.js';
import { FIN, Pipe } from './simulated-pipe.js';
import type { PipeContext } from './simulated-pipe.js';
import type { LinkConditions, ResolvedLinkConditions } from './simulated-link.js';
import { resolveLinkConditions, validateLinkConditions } from './simulated-link.js';
import { SeededRandom } from '../seeded-random.js';
import type { SimulatedHost } from './simulated-host.js';

const log = new Logger('torsion.simulated');

/**
 * What a connection needs from its network.
 * @internal
 */
export interface ConnectionNetwork {
  now(): number;
  schedule<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall;
  /** Network-wide and host-pair conditions, most specific first. */
  linkLayers(a: SimulatedHost, b: SimulatedHost): readonly (LinkConditions | undefined)[];
  /** Bumped whenever any conditions change, so connections re-resolve theirs. */
  readonly conditionsVersion: number;
  reachable(a: SimulatedHost, b: SimulatedHost): boolean;
  whenReachable(a: SimulatedHost, b: SimulatedHost, fn: () => void): void;
  record(
    kind: string,
    connection: SimulatedConnection<IAddress>,
    from: IAddress,
    to: IAddress,
    bytes?: number,
  ): void;
  forkSeed(): number;
  connectionClosed(connection: SimulatedConnection<IAddress>): void;
}

/**
 * Told once, after the protocol's `connectionLost` ran, that a transport is gone.
 * @internal
 */
export interface SimulatedTransportOwner {
  transportClosed(transport: SimulatedTransport<IAddress>, reason: Failure): void;
}

/** One direction of a connection, as its pipe sees the world. */
class Direction implements PipeContext {
  readonly #connection: SimulatedConnection<IAddress>;
  readonly #network: ConnectionNetwork;
  readonly #from: SimulatedTransport<IAddress>;
  readonly #to: SimulatedTransport<IAddress>;

  constructor(
    connection: SimulatedConnection<IAddress>,
    network: ConnectionNetwork,
    from: SimulatedTransport<IAddress>,
    to: SimulatedTransport<IAddress>,
  ) {
    this.#connection = connection;
    this.#network = network;
    this.#from = from;
    this.#to = to;
  }

  get random(): SeededRandom {
    return this.#connection.random;
  }

  now(): number {
    return this.#network.now();
  }

  schedule<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    return this.#network.schedule(delaySeconds, fn, ...args);
  }

  conditions(): ResolvedLinkConditions {
    return this.#connection.conditions;
  }

  reachable(): boolean {
    return this.#network.reachable(this.#connection.clientHost, this.#connection.serverHost);
  }

  whenReachable(fn: () => void): void {
    this.#network.whenReachable(this.#connection.clientHost, this.#connection.serverHost, fn);
  }

  trace(kind: string, bytes?: number): void {
    this.#network.record(kind, this.#connection, this.#from.getHost(), this.#to.getHost(), bytes);
  }
}

/**
 * A connection between a client and a server on a {@link SimulatedNetwork}:
 * both transports, the hosts, and the faults that can be injected into it.
 * `A` is the ends' address type: `UNIXAddress` for a connection to a
 * simulated UNIX socket (both hosts are then the same one).
 */
export class SimulatedConnection<A extends IAddress = INETAddress> {
  /** A number unique within the network, in the order connections were accepted. */
  readonly id: number;
  /** The host that connected. */
  readonly clientHost: SimulatedHost;
  /** The host that accepted. */
  readonly serverHost: SimulatedHost;
  /** The client's end. */
  readonly client: SimulatedTransport<A>;
  /** The server's end. */
  readonly server: SimulatedTransport<A>;
  /** This connection's own generator (chunk sizes, jitter), seeded from the network's. */
  readonly random: SeededRandom;
  readonly #network: ConnectionNetwork;
  #own: LinkConditions | undefined;
  #resolved: ResolvedLinkConditions | null = null;
  #resolvedAt = -1;
  #closedEnds = 0;

  /**
   * Built by the network when a server accepts.
   * @internal
   */
  constructor(
    network: ConnectionNetwork,
    id: number,
    clientHost: SimulatedHost,
    serverHost: SimulatedHost,
    ends: {
      clientAddress: A;
      serverAddress: A;
      clientOwner: SimulatedTransportOwner;
      serverOwner: SimulatedTransportOwner;
      highWaterMark: number;
    },
  ) {
    this.#network = network;
    this.id = id;
    this.clientHost = clientHost;
    this.serverHost = serverHost;
    this.random = new SeededRandom(network.forkSeed());
    this.client = new SimulatedTransport<A>(
      this,
      network,
      false,
      ends.clientAddress,
      ends.serverAddress,
      ends.clientOwner,
      ends.highWaterMark,
    );
    this.server = new SimulatedTransport<A>(
      this,
      network,
      true,
      ends.serverAddress,
      ends.clientAddress,
      ends.serverOwner,
      ends.highWaterMark,
    );
    const toServer = new Pipe(
      new Direction(this, network, this.client, this.server),
      this.client,
      this.server,
    );
    const toClient = new Pipe(
      new Direction(this, network, this.server, this.client),
      this.server,
      this.client,
    );
    this.client._attach(toServer, toClient);
    this.server._attach(toClient, toServer);
  }

  /** The conditions this connection runs under now (its own, its hosts', the network's). */
  get conditions(): ResolvedLinkConditions {
    const version = this.#network.conditionsVersion;
    if (this.#resolved === null || this.#resolvedAt !== version) {
      this.#resolved = resolveLinkConditions(
        this.#own,
        ...this.#network.linkLayers(this.clientHost, this.serverHost),
      );
      this.#resolvedAt = version;
    }
    return this.#resolved;
  }

  /**
   * Overrides link conditions for this connection only (fields left out keep
   * the host pair's or the network's). Bytes already on the wire keep their
   * arrival times.
   * @throws RangeError for an invalid value.
   */
  setConditions(conditions: LinkConditions): void {
    validateLinkConditions(conditions);
    this.#own = { ...this.#own, ...conditions };
    this.#resolved = null;
  }

  /** True once both ends are closed. */
  get closed(): boolean {
    return this.#closedEnds === 2;
  }

  /**
   * Resets the connection, as a middlebox dropping it would: unsent and
   * undelivered bytes are lost, and both protocols get `connectionLost`
   * with a ConnectionLost on the next turn. Does nothing once both ends are closed.
   */
  reset(): void {
    if (this.closed) return;
    const reason = new ConnectionLost('The connection was reset (simulated)');
    this.#network.record('reset', this, this.client.getHost(), this.server.getHost());
    this.client._reset(reason);
    this.server._reset(reason);
  }

  /** @returns e.g. `SimulatedConnection(#3 10.0.0.2:49152 -> 127.0.0.1:8000)`. */
  toString(): string {
    return `SimulatedConnection(#${this.id} ${this.client.getHost().toString()} -> ${this.server.getHost().toString()})`;
  }

  /** @internal One end closed. */
  _endClosed(): void {
    this.#closedEnds++;
    if (this.#closedEnds === 2) this.#network.connectionClosed(this);
  }
}

/**
 * One end of a {@link SimulatedConnection}: what `protocol.transport` is on
 * a {@link SimulatedReactor}. It behaves as Torsion's TCP transport does.
 *
 * @remarks
 * - `loseConnection()` stops reading, waits for a registered producer to be
 *   unregistered, sends what was written (including writes made right after
 *   the call, in the same turn), then FIN; this end's `connectionLost` gets
 *   ConnectionDone once the FIN has left, the peer's once it has read it.
 * - `abortConnection()` drops unsent bytes and sends RST: ConnectionAborted
 *   here (on the next turn), ConnectionLost at the peer when the RST arrives.
 * - Bytes reaching an end that is already closed are answered with RST, as a
 *   kernel does, so a peer still writing gets ConnectionLost.
 * - Above {@link BaseTransport.writeHighWaterMark} unsent bytes, a
 *   streaming producer is paused (or, with none, reading stops) until the
 *   send buffer drains; it only drains as fast as the link and the peer's
 *   reading allow.
 * - An exception thrown by the protocol or a producer is logged on
 *   `torsion.simulated` and aborts this connection only.
 */
// Also the PipeSender and PipeReceiver of its pipes, checked structurally
// where the pipes are built: an `implements` of an internal interface would
// dangle in the published declarations.
export class SimulatedTransport<A extends IAddress = INETAddress> extends BaseTransport<A> {
  /** The connection this end belongs to. */
  readonly connection: SimulatedConnection<A>;
  /** True for the end the server accepted. */
  readonly isServer: boolean;
  readonly #network: ConnectionNetwork;
  readonly #owner: SimulatedTransportOwner;
  #out!: Pipe;
  #in!: Pipe;
  #protocol: IProtocol | null = null;

  #reason: Failure | null = null;
  #endScheduled = false;
  #finQueued = false;
  /** The FIN waits for the send buffer to empty; writes until then are still sent. */
  #endAfterDrain = false;
  #finSent = false;
  #finReceived = false;
  /** The peer's end was delivered: its FIN, or under TLS its close_notify (see peerEnded). */
  #peerDone = false;
  /** The client gave up before the connection was accepted. */
  #abandoned = false;
  #closeScheduled = false;

  #readScheduled = false;
  #processing = false;

  #noDelay = false;
  #keepAlive = false;
  #keepAliveDelay = 0;
  #onAccepted: (() => void) | null = null;

  /** @internal Built by {@link SimulatedConnection}. */
  constructor(
    connection: SimulatedConnection<A>,
    network: ConnectionNetwork,
    isServer: boolean,
    host: A,
    peer: A,
    owner: SimulatedTransportOwner,
    highWaterMark: number,
  ) {
    super(host, peer, highWaterMark);
    this.connection = connection;
    this.#network = network;
    this.isServer = isServer;
    this.#owner = owner;
  }

  /** @internal */
  _attach(out: Pipe, incoming: Pipe): void {
    this.#out = out;
    this.#in = incoming;
  }

  // ------------------------------------------------------------ state for tests

  /** The protocol at this end, once attached. */
  override get protocol(): IProtocol | null {
    return this.#protocol;
  }

  /** Bytes written here and not yet sent (waiting for bandwidth or the peer's window). */
  get writeBufferSize(): number {
    return this.#out.sendBufferSize + this.tlsBufferedBytes;
  }

  /** Bytes that arrived here and were not yet given to the protocol (reading is paused). */
  get readBufferSize(): number {
    return this.#in.receiveBufferSize;
  }

  /** True once this end's protocol got `connectionLost`. */
  get disconnected(): boolean {
    return this.lost;
  }

  /** The initial delay given to the last `setTcpKeepAlive(true, …)`, in seconds. */
  get keepAliveDelay(): number {
    return this.#keepAliveDelay;
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Queues bytes for the peer (strings as UTF-8; arrays are copied).
   * Accepted until the FIN is sent, which a close delays until the send
   * buffer is empty (as in Twisted); ignored after that or after a reset.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    this.checkWriteData(data);
    if (this.writeClosed) return;
    if (this.tlsStarted) {
      this.writeTLS(data);
      return;
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.length === 0) return;
    const out = this.#out;
    out.write(bytes);
    this.afterWrite(out.sendBufferSize);
  }

  /**
   * Writes each item in order. Every item is checked first, so a bad item writes nothing.
   * @throws TypeError if an item is neither a Uint8Array nor a string.
   */
  writeSequence(data: Iterable<WriteData>): void {
    const items = this.writeSequenceItems(data);
    for (const item of items) this.write(item);
  }

  // ------------------------------------------------------------ ITCPTransport

  /** Records the setting (there is no Nagle delay to turn off in the simulation). */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
  }

  /** The last value given to `setTcpNoDelay` (default false). */
  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  /**
   * Records the setting (no probes are simulated).
   * @throws RangeError if `initialDelaySeconds` is negative or not finite.
   */
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds = 0): void {
    this.checkKeepAliveDelay(initialDelaySeconds);
    this.#keepAlive = enabled;
    this.#keepAliveDelay = initialDelaySeconds;
  }

  /** The last value given to `setTcpKeepAlive` (default false). */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** @returns e.g. `SimulatedTransport(Echo, peer=127.0.0.1:49152)`. */
  override toString(): string {
    return `SimulatedTransport(${this.protocolName()}, peer=${this.getPeer().toString()})`;
  }

  // ------------------------------------------------------------ driven by the connector and port

  /**
   * The client's connector is told through this when the SYN-ACK arrives.
   * @internal
   */
  _whenAccepted(fn: () => void): void {
    this.#onAccepted = fn;
  }

  /**
   * The client gave up (timeout, cancelled) before the SYN-ACK arrived.
   * @internal
   */
  _abandon(): void {
    if (this.lost) return;
    this.#abandoned = true;
    this.lost = true;
    this.#onAccepted = null;
    this.connection._endClosed();
  }

  /**
   * Attaches the protocol: `protocol.makeConnection(this)`; an exception
   * there aborts the connection, as on TCP.
   * @internal
   */
  _start(protocol: IProtocol): void {
    this.#protocol = protocol;
    this.attachProtocol(protocol);
    this.#scheduleRead();
  }

  /**
   * Runs a TLS handshake before any protocol is attached (listenSSL,
   * connectSSL): `onHandshake(null)` attaches one with {@link SimulatedTransport._start}.
   * @internal
   */
  _startTLS(
    options: ClientTLSOptions | ServerTLSOptions,
    onHandshake: (error: TLSError | null) => void,
  ): void {
    this.startTLSHandshake(options, onHandshake);
    this.#scheduleRead();
  }

  /** @internal Sends the SYN-ACK (server end). */
  _accept(): void {
    this.#out.sendSynAck();
  }

  /** @internal The whole connection was reset. */
  _reset(reason: Error): void {
    if (this.lost) return;
    this.#out.destroy();
    this.#in.destroy();
    this.writeClosed = true;
    this.closeRequested = true;
    this.#reason ??= new Failure(reason);
    this.#scheduleClose();
  }

  // ------------------------------------------------------------ PipeSender / PipeReceiver

  /** @internal */
  get _gone(): boolean {
    return this.lost || this.#abandoned;
  }

  /** @internal */
  _synAckArrived(): void {
    const accepted = this.#onAccepted;
    this.#onAccepted = null;
    accepted?.();
  }

  /** @internal */
  _received(): void {
    this.#processReceived();
  }

  /** @internal */
  _resetArrived(): void {
    if (this.lost) return;
    this.#out.destroy();
    this.writeClosed = true;
    this.#reason ??= new Failure(new ConnectionLost('Connection reset by peer (simulated)'));
    this.#close();
  }

  /** @internal */
  _strayArrived(): void {
    this.#out.sendReset();
  }

  /** @internal */
  _drained(): void {
    if (this.#endAfterDrain) {
      this.#endAfterDrain = false;
      SimulatedTransport.#endSoon(this);
    }
    this.writeBufferDrained();
  }

  /** @internal */
  _finTransmitted(): void {
    if (this.lost) return;
    this.#finSent = true;
    if (this.closeRequested || this.#peerDone) {
      this.#close();
      return;
    }
    if (this.#protocol !== null) this.writeConnectionLost(this.#protocol);
  }

  // ------------------------------------------------------------ BaseTransport's I/O

  /** The `torsion.simulated` logger. */
  protected get log(): Logger {
    return log;
  }

  /** The protocol's type name (`null` before one is attached). */
  protected protocolName(): string {
    return describeType(this.#protocol);
  }

  /** The protocol at this end, once attached. */
  protected get attachedProtocol(): IProtocol | null {
    return this.#protocol;
  }

  /** Ciphertext under TLS: queued behind what was written before. */
  protected writeRaw(data: Buffer): void {
    if (this.lost || this.#finQueued) return;
    this.#out.write(Buffer.from(data));
  }

  /** Our close_notify is queued (or TLS failed): the FIN follows it. */
  protected endRaw(): void {
    if (this.lost || this.#finQueued) return;
    this.#finQueued = true;
    this.writeClosed = true;
    this.#out.sendFin();
  }

  /**
   * The peer's end was delivered (its FIN; under TLS its close_notify). A
   * half-closeable protocol hears it even when its own FIN already went out,
   * as on a real socket; then both directions are done (under TLS, once the
   * peer's FIN arrived too).
   */
  protected peerEnded(): void {
    this.#peerDone = true;
    const protocol = this.#protocol;
    if (protocol !== null) this.readConnectionLost(protocol, !this.#finSent);
    if (this.#finSent && this.#finReceived) this.#close();
  }

  /** The handshake timeout runs in virtual time. */
  protected override get handshakeClock(): HandshakeClock {
    const network = this.#network;
    return {
      callLater(delaySeconds: number, fn: () => void) {
        return network.schedule(delaySeconds, fn);
      },
    };
  }

  /** Nothing to do: the read loop checks {@link BaseTransport.readPaused} itself. */
  protected pauseReading(): void {}

  /** Runs the read loop on the next turn; it delivers only what reading is not held back from. */
  protected resumeReading(): void {
    this.#scheduleRead();
  }

  /** Nothing to do: the pipe reports every time the send buffer empties. */
  protected notifyWhenDrained(): void {}

  /** Queues the FIN on the next turn, so writes made right after loseConnection() still go out. */
  protected scheduleEnd(): void {
    if (this.#endScheduled || this.producerHoldsClose || this.lost) return;
    this.#endScheduled = true;
    this.#network.schedule(0, SimulatedTransport.#endSoon, this);
  }

  /** Drops unsent bytes and sends RST; `connectionLost` runs on the next turn. */
  protected abort(reason: Failure | null): void {
    if (this.lost) return;
    this.closeRequested = true;
    this.writeClosed = true;
    this.#reason ??= reason ?? new Failure(new ConnectionAborted());
    this.#out.sendReset();
    this.#scheduleClose();
  }

  // ------------------------------------------------------------ internals

  #guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.protocolFailed(where, err);
    }
  }

  static #endSoon(transport: SimulatedTransport<IAddress>): void {
    transport.#endScheduled = false;
    if (transport.lost || transport.producerHoldsClose) return;
    if (!transport.#finQueued) {
      if (transport.writeClosed) return; // aborted meanwhile, or TLS is ending
      if (transport.tlsStarted) {
        // close_notify after everything written; endRaw() queues the FIN after it.
        transport.endTLS();
        return;
      }
      if (transport.#out.sendBufferSize > 0) {
        // As Twisted: writes are still accepted until everything is sent,
        // then the FIN goes out (_drained calls back here).
        transport.#endAfterDrain = true;
        return;
      }
      transport.#finQueued = true;
      transport.writeClosed = true;
      transport.#out.sendFin();
    } else if (transport.closeRequested && transport.#finSent) {
      // loseConnection() after a completed loseWriteConnection(): nothing left to send.
      transport.#close();
    }
  }

  #scheduleClose(): void {
    if (this.#closeScheduled) return;
    this.#closeScheduled = true;
    this.#network.schedule(0, SimulatedTransport.#closeSoon, this);
  }

  static #closeSoon(transport: SimulatedTransport<IAddress>): void {
    transport.#close();
  }

  #scheduleRead(): void {
    if (this.#readScheduled || this.lost) return;
    this.#readScheduled = true;
    this.#network.schedule(0, SimulatedTransport.#readSoon, this);
  }

  static #readSoon(transport: SimulatedTransport<IAddress>): void {
    transport.#readScheduled = false;
    transport.#processReceived();
  }

  #processReceived(): void {
    // Before a protocol is attached only a TLS handshake reads.
    if (this.#processing || (this.#protocol === null && !this.tlsStarted)) return;
    this.#processing = true;
    try {
      while (!this.lost) {
        if (this.closeRequested) {
          // Reading stopped at loseConnection()/abort: what arrives is dropped.
          while (this.#in.takeReceived() !== undefined);
          break;
        }
        if (this.readPaused) break;
        const item = this.#in.takeReceived();
        if (item === undefined) break;
        if (item === FIN) {
          this.#finReceived = true;
          if (!this.tlsStarted) this.peerEnded();
          else if (this.#peerDone && this.#finSent) this.#close();
          else this.receiveTLSEnd();
          continue;
        }
        if (this.tlsStarted) {
          this.receiveTLS(item);
          continue;
        }
        const protocol = this.#protocol;
        if (protocol === null) continue;
        this.#guard('dataReceived', () => {
          protocol.dataReceived(item);
        });
      }
    } finally {
      this.#processing = false;
    }
  }

  #close(): void {
    if (this.lost) return;
    this.lost = true;
    this.writeClosed = true;
    this.closeRequested = true;
    const reason = this.closeReason(this.#reason);
    this.#reason = reason;
    const protocol = this.#protocol;
    if (protocol === null) {
      // The client end closed before it heard the SYN-ACK, or a TLS handshake
      // failed before a protocol was attached: there is no protocol to tell.
      this.releaseTLS();
      this.connection._endClosed();
      if (this.tlsStarted) this.#owner.transportClosed(this, reason);
      return;
    }
    this.notifyConnectionLost(protocol, reason);
    this.#network.record('closed', this.connection, this.getHost(), this.getPeer());
    this.connection._endClosed();
    this.#owner.transportClosed(this, reason);
  }
}
