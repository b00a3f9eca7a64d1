/**
 * `TLSPort`: a TCP port that speaks TLS, made by NodeReactor's `listenSSL`.
 * Connections are accepted as by {@link TCPPort}; each is wrapped in a
 * `tls.TLSSocket` (as `tls.Server` does, see tls-server-socket.ts) and only
 * once its handshake completed, and the client's certificate passed the
 * check the options ask for, is its protocol built and connected. A
 * handshake that fails, times out, or meets a client that goes away costs
 * only that connection: it is logged at 'info' on `torsion.tls` with the peer
 * and the TLSError code, and the factory never hears of it.
 *
 * The handshake's deadline counts from the accept and is not extended by
 * traffic (unlike `tls.Server`'s `handshakeTimeout`, which is an idle
 * timeout, so a peer trickling a byte now and then never reaches it).
 *
 * Tests: test/tls.integration.test.ts, test/tls-failures.integration.test.ts,
 * test/tls-mutual.integration.test.ts, test/tls-openssl.integration.test.ts
 * @module
 */
import type { Socket } from 'node:net';
import type { TLSSocket, TLSSocketOptions } from 'node:tls';
import type { INETAddress } from '../address.js';
import type { TLSError } from '../errors.js';
import type {
  IDelayedCall,
  IProtocolFactory,
  IReactorTime,
  ISSLListeningPort,
} from '../interfaces.js';
import { Logger } from '../log.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { THREW } from '../reactor-kit/call-safely.js';
import {
  tlsClosedDuringHandshake,
  tlsErrorFor,
  tlsHandshakeTimeout,
} from '../reactor-kit/tls-errors.js';
import { checkTLSOptions, type ServerTLSOptions } from '../tls-options.js';
import type { Registry } from './registry.js';
import { TCPPort } from './tcp-port.js';
import { serverSocketOptions } from './tls-context.js';
import { acceptTLS, clientCertificateError } from './tls-server-socket.js';
import { TLSTransport } from './tls-transport.js';

const log = new Logger('torsion.tls');

/** One accepted connection whose handshake is running. */
class Handshake {
  done = false;
  constructor(
    readonly tcpSocket: Socket,
    readonly tlsSocket: TLSSocket,
    readonly host: INETAddress,
    readonly peer: INETAddress,
    readonly options: ServerTLSOptions,
    /** When the handshake times out, in the clock's seconds. */
    readonly deadline: number,
  ) {}
}

/**
 * The options every accepted socket is wrapped with, made once per
 * {@link ServerTLSOptions}: the ALPN list goes in wire format, which Node
 * would otherwise build again for every connection.
 */
function socketOptionsFor(options: ServerTLSOptions): TLSSocketOptions {
  const socketOptions = serverSocketOptions(options);
  if (options.alpnProtocols.length > 0) {
    const names = options.alpnProtocols.map((name) => Buffer.from(name, 'utf8'));
    const wire = Buffer.alloc(names.reduce((sum, name) => sum + 1 + name.length, 0));
    let offset = 0;
    for (const name of names) {
      wire[offset++] = name.length;
      offset += name.copy(wire, offset);
    }
    socketOptions.ALPNProtocols = wire;
  }
  return socketOptions;
}

/**
 * A TLS port listening for connections. Created by `reactor.listenSSL()`.
 *
 * @remarks `stopListening()` also drops the handshakes still in progress:
 * their connections were never handed to the factory, which stops now.
 */
export class TLSPort extends TCPPort implements ISSLListeningPort {
  readonly #registry: Registry;
  readonly #clock: Pick<IReactorTime, 'callLater' | 'seconds'>;
  /** Times out the oldest handshake; one timer per port, not one per connection. */
  #sweep: IDelayedCall | null = null;
  #options: ServerTLSOptions;
  #socketOptions: TLSSocketOptions;
  /** Handshakes in progress, by socket (nothing is stored on the socket itself). */
  readonly #handshakes = new Map<TLSSocket, Handshake>();
  // The handshake's listeners: one set per port, shared by its connections
  // (`this` is the socket), so a handshake allocates no closures.
  readonly #onSecure: (this: TLSSocket) => void;
  readonly #onError: (this: TLSSocket, err: Error) => void;
  readonly #onEnd: (this: TLSSocket) => void;
  readonly #onClose: (this: TLSSocket) => void;

  /**
   * @param registry - the reactor's open resources.
   * @param clock - times handshakes out (the reactor).
   * @param port - 0..65535 (validated by the reactor).
   * @param factory - builds a protocol per connection, once its handshake completed.
   * @param backlog - pending-connection queue length.
   * @param iface - address to bind; `''` for Node's default (all interfaces).
   * @param options - made by `serverTLSOptions()` (validated by the reactor).
   */
  constructor(
    registry: Registry,
    clock: Pick<IReactorTime, 'callLater' | 'seconds'>,
    port: number,
    factory: IProtocolFactory,
    backlog: number,
    iface: string,
    options: ServerTLSOptions,
  ) {
    super(registry, port, factory, backlog, iface, log);
    this.#registry = registry;
    this.#clock = clock;
    this.#options = options;
    this.#socketOptions = socketOptionsFor(options);
    const handshakes = this.#handshakes;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listeners' `this` is the socket
    const tlsPort = this;
    const closed = (socket: TLSSocket, err?: Error): void => {
      const handshake = handshakes.get(socket);
      if (handshake === undefined) return;
      const peer = handshake.peer.toString();
      this.#failed(
        handshake,
        err === undefined ? tlsClosedDuringHandshake(peer) : tlsErrorFor(err, peer),
      );
    };
    this.#onSecure = function (this: TLSSocket) {
      const handshake = handshakes.get(this);
      if (handshake !== undefined) tlsPort.#secured(handshake);
    };
    this.#onError = function (this: TLSSocket, err: Error) {
      closed(this, err);
    };
    this.#onEnd = this.#onClose = function (this: TLSSocket) {
      closed(this);
    };
  }

  /** The options new connections are made with. */
  get tlsOptions(): ServerTLSOptions {
    return this.#options;
  }

  /**
   * Uses `options` for the connections accepted from now on (certificate
   * reload); connections already open, or still in their handshake, keep
   * theirs.
   * @throws TypeError if `options` were not made by `serverTLSOptions()`.
   */
  setTLSOptions(options: ServerTLSOptions): void {
    checkTLSOptions(options, 'server');
    this.#socketOptions = socketOptionsFor(options);
    this.#options = options;
  }

  /** Handshakes in progress (for tests and diagnostics). */
  get handshakesInProgress(): number {
    return this.#handshakes.size;
  }

  // ------------------------------------------------------------ TCPPort's hooks

  protected override connectionAccepted(
    socket: Socket,
    host: INETAddress,
    peer: INETAddress,
  ): void {
    const options = this.#options;
    let tlsSocket: TLSSocket;
    try {
      tlsSocket = acceptTLS(socket, this.#socketOptions);
    } catch (err) {
      // Not expected (the options were built and checked up front), but an
      // exception here must cost this connection only, not the process.
      log.failure('Could not start a TLS handshake', err, { peer: peer.toString() }, 'warn');
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const handshake = new Handshake(
      socket,
      tlsSocket,
      host,
      peer,
      options,
      this.#clock.seconds() + options.handshakeTimeout,
    );
    // The 'error' listener stays after a failure: a late error is harmless.
    tlsSocket.on('error', this.#onError);
    tlsSocket.on('end', this.#onEnd);
    tlsSocket.on('close', this.#onClose);
    tlsSocket.on('secure', this.#onSecure);
    this.#handshakes.set(tlsSocket, handshake);
    this.#sweep ??= this.#clock.callLater(options.handshakeTimeout, TLSPort.#sweepSoon, this);
  }

  protected override close(): void {
    for (const handshake of [...this.#handshakes.values()]) {
      this.#finish(handshake);
      handshake.tlsSocket.destroy();
    }
    if (this.#sweep?.active() === true) this.#sweep.cancel();
    this.#sweep = null;
    super.close();
  }

  // ------------------------------------------------------------ internals

  /** The handshake is over, one way or the other. */
  #finish(handshake: Handshake): void {
    handshake.done = true;
    this.#handshakes.delete(handshake.tlsSocket);
  }

  /**
   * Fails the handshakes whose deadline has passed, oldest first, and sets
   * the timer for the next one. Handshakes are kept in the order they
   * began, which is the order of their deadlines while the timeout does not
   * change; after `setTLSOptions()` shortens it, a new handshake can wait
   * behind an older one for at most the old timeout.
   */
  #expire(): void {
    const now = this.#clock.seconds();
    for (const handshake of this.#handshakes.values()) {
      if (handshake.deadline > now) {
        this.#sweep = this.#clock.callLater(handshake.deadline - now, TLSPort.#sweepSoon, this);
        return;
      }
      this.#failed(
        handshake,
        tlsHandshakeTimeout(handshake.peer.toString(), handshake.options.handshakeTimeout),
      );
    }
  }

  #failed(handshake: Handshake, error: TLSError): void {
    if (handshake.done) return;
    this.#finish(handshake);
    const peer = handshake.peer.toString();
    log.info(error.message, { peer, code: error.code, port: this.getHost().toString() });
    handshake.tlsSocket.destroy();
  }

  #secured(handshake: Handshake): void {
    if (handshake.done) return;
    const { tlsSocket, peer, options } = handshake;
    if (options.clientCertificates !== 'none') {
      const refused = clientCertificateError(tlsSocket);
      if (refused !== null) {
        // With TLS 1.3 the client's side of the handshake completed already:
        // it sees the connection close, with no alert (as with tls.Server).
        this.#failed(handshake, tlsErrorFor(refused, peer.toString()));
        return;
      }
    }
    this.#finish(handshake);
    if (!this.accepting) {
      tlsSocket.destroy();
      return;
    }
    const protocol = buildProtocolSafely(log, this.factory, peer);
    if (protocol === THREW || protocol === null) {
      tlsSocket.destroy();
      return;
    }
    const transport = new TLSTransport(
      tlsSocket,
      handshake.tcpSocket,
      protocol,
      handshake.host,
      peer,
      this,
      this.#registry.writeHighWaterMark,
    );
    // The transport listens for errors now; the handshake's listeners go.
    tlsSocket.removeListener('error', this.#onError);
    tlsSocket.removeListener('end', this.#onEnd);
    tlsSocket.removeListener('close', this.#onClose);
    tlsSocket.removeListener('secure', this.#onSecure);
    this.addConnection(transport);
    transport.start();
  }

  static #sweepSoon(port: TLSPort): void {
    port.#sweep = null;
    port.#expire();
  }
}

function ignoreError(): void {}
