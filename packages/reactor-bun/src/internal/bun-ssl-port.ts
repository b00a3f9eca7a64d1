/**
 * `BunSSLPort`: `listenSSL` on BunReactor, a BunTCPPort whose listener
 * speaks TLS (`Bun.listen({ tls })`). Bun opens an accepted socket before its
 * handshake; the port holds it until Bun's `handshake` handler reports the
 * outcome, and only then builds the protocol and connects it, as every
 * Torsion reactor does. A handshake that fails, or does not finish within
 * the options' `handshakeTimeout`, is logged at 'info' on `torsion.tls` and
 * costs only that connection: the factory never hears of it.
 *
 * Bun cannot change a listener's certificate, so `setTLSOptions` replaces
 * the listener on the same address (see BunTCPPort's `relisten`).
 *
 * Tests: test/tls.bun.test.ts
 * @module
 */
import { addressFor, checkTLSOptions, Logger } from '@torsion/core';
import type {
  INETAddress,
  IProtocol,
  IProtocolFactory,
  ISSLListeningPort,
  ServerTLSOptions,
  TLSError,
} from '@torsion/core';
import { tlsClosedDuringHandshake, tlsHandshakeTimeout } from '@torsion/core/reactor-kit';
import type { SocketHandler, TLSOptions } from 'bun';
import { BunTCPPort } from './bun-tcp-port.js';
import type { PortSettings } from './bun-tcp-port.js';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';
import { serverHandshakeError } from './bun-tls-handshake.js';
import { bunServerTLS, checkBunCanServe } from './bun-tls-options.js';
import { BunTLSTransport } from './bun-tls-transport.js';

const tlsLog = new Logger('torsion.tls');

/** An accepted socket whose handshake has not finished: its `socket.data` until then. */
class PendingHandshake {
  /** The outcome was dealt with (served, or failed and logged). */
  settled = false;
  /** An engine error reported before the close, kept as the close's cause. */
  error: Error | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    readonly port: BunSSLPort,
    readonly options: ServerTLSOptions,
    readonly peer: INETAddress,
  ) {}
}

/** The handlers of every TLS listener: one object for the whole process. */
const TLS_LISTEN_HANDLERS: SocketHandler<SocketData> = {
  ...BunTCPTransport.handlers,
  open(socket) {
    const port = socket.data;
    if (port instanceof BunSSLPort) port.handshakeStarted(socket);
    else socket.terminate();
  },
  handshake(socket, success, authorizationError) {
    const pending = socket.data;
    if (pending instanceof PendingHandshake) {
      pending.port.handshakeEnded(socket, pending, success, authorizationError);
    }
  },
  close(socket, error) {
    const pending = socket.data;
    if (pending instanceof PendingHandshake) {
      pending.port.handshakeFailed(
        socket,
        pending,
        tlsClosedDuringHandshake(pending.peer.toString(), error ?? pending.error),
      );
    } else {
      void BunTCPTransport.handlers.close(socket, error);
    }
  },
  error(socket, error) {
    const pending = socket.data;
    // During the handshake Bun reports its failure to `handshake`; keep the detail for `close`.
    if (pending instanceof PendingHandshake) pending.error = error;
    else void BunTCPTransport.handlers.error(socket, error);
  },
};

/**
 * A TLS port listening for connections. Created by `reactor.listenSSL()`.
 *
 * @remarks As a TCP port on Bun (bound before `listenSSL()` returns), plus
 * {@link BunSSLPort.setTLSOptions} for certificate reload.
 */
export class BunSSLPort extends BunTCPPort implements ISSLListeningPort {
  #options: ServerTLSOptions;
  /** Accepted sockets still in their handshake: closed with the port, which owns them until served. */
  readonly #pending = new Set<BunSocket>();

  /**
   * @param settings - the reactor's open resources and connection settings.
   * @param port - 0..65535 (validated by the reactor).
   * @param factory - builds a protocol per connection, once its handshake completed.
   * @param iface - address to bind; `''` for every interface.
   * @param options - made by `serverTLSOptions()` and checked by the reactor.
   */
  constructor(
    settings: PortSettings,
    port: number,
    factory: IProtocolFactory,
    iface: string,
    options: ServerTLSOptions,
  ) {
    super(settings, port, factory, iface);
    this.#options = options;
  }

  /**
   * Uses `options` for connections accepted from now on; connections already
   * open (or in their handshake) keep theirs. Bun cannot change a listener's
   * certificate, so the listener is replaced on the same address: a
   * connection the kernel completed but Bun had not accepted yet at that
   * instant is reset.
   * @throws TypeError if `options` were not made by `serverTLSOptions()`.
   * @throws Error if they need what Bun cannot do (SNI certificates), or if
   *   listening again failed (the port then keeps its old options).
   */
  setTLSOptions(options: ServerTLSOptions): void {
    checkTLSOptions(options, 'server');
    checkBunCanServe(options);
    bunServerTLS(options);
    const previous = this.#options;
    this.#options = options;
    this.relisten(() => {
      this.#options = previous;
    });
  }

  /**
   * Stops listening, and closes the connections still in their handshake:
   * no protocol has them yet, so nobody else would.
   */
  protected override close(): void {
    super.close();
    for (const socket of this.#pending) {
      const pending = socket.data;
      if (pending instanceof PendingHandshake) this.#settle(pending, socket);
      socket.data = null;
      socket.terminate();
    }
    this.#pending.clear();
  }

  /** `Bun.listen` with the current options' certificate and the TLS handlers. */
  protected override listenOptions(): { socket: SocketHandler<SocketData>; tls: TLSOptions } {
    return { socket: TLS_LISTEN_HANDLERS, tls: bunServerTLS(this.#options) };
  }

  protected override makeTransport(
    socket: BunSocket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
    writeHighWaterMark: number,
  ): BunTLSTransport {
    return new BunTLSTransport(socket, protocol, host, peer, this, writeHighWaterMark);
  }

  /**
   * Bun's `open` on an accepted TLS socket: the handshake has started.
   * @internal
   */
  handshakeStarted(socket: BunSocket): void {
    if (!this.admit(socket)) return;
    const options = this.#options;
    const pending = new PendingHandshake(
      this,
      options,
      addressFor('TCP', socket.remoteAddress, socket.remotePort),
    );
    socket.data = pending;
    this.#pending.add(socket);
    if (Number.isFinite(options.handshakeTimeout)) {
      pending.timer = setTimeout(() => {
        this.handshakeFailed(
          socket,
          pending,
          tlsHandshakeTimeout(pending.peer.toString(), options.handshakeTimeout),
        );
      }, options.handshakeTimeout * 1000);
    }
  }

  /**
   * Bun's `handshake`: serve the connection if the handshake succeeded and
   * the client's certificate (if asked for) verified.
   * @internal
   */
  handshakeEnded(
    socket: BunSocket,
    pending: PendingHandshake,
    success: boolean,
    authorizationError: Error | null,
  ): void {
    if (pending.settled) return;
    const failure = serverHandshakeError(
      socket,
      pending.options,
      success,
      authorizationError,
      pending.peer.toString(),
    );
    if (failure !== null) {
      this.handshakeFailed(socket, pending, failure);
      return;
    }
    this.#settle(pending, socket);
    socket.data = null;
    if (!this.accepting) {
      // The port stopped listening during the handshake.
      socket.terminate();
      return;
    }
    const transport = this.serve(socket, pending.peer);
    if (transport instanceof BunTLSTransport) transport.handshakeCompleted();
  }

  /**
   * The handshake failed, timed out, or the connection closed first: log it
   * and close this connection only.
   * @internal
   */
  handshakeFailed(socket: BunSocket, pending: PendingHandshake, error: TLSError): void {
    if (pending.settled) return;
    this.#settle(pending, socket);
    tlsLog.info(error.message, {
      peer: pending.peer.toString(),
      code: error.code,
      port: this.getHost().toString(),
    });
    if (socket.data === pending) {
      socket.data = null;
      socket.terminate();
    }
  }

  #settle(pending: PendingHandshake, socket: BunSocket): void {
    this.#pending.delete(socket);
    pending.settled = true;
    if (pending.timer !== undefined) clearTimeout(pending.timer);
  }
}
