/**
 * `BunSSLConnector`: `connectSSL` on BunReactor, a BunTCPConnector that
 * dials with Bun's native TLS (`Bun.connect({ tls })`). Bun reports the
 * socket open before its handshake; the attempt goes on until Bun's
 * `handshake` handler reports the outcome and Torsion's checks (trust root,
 * `options.hostname`, see bun-tls-handshake.ts) accept the server. Only
 * then is the protocol built and connected, followed by
 * `handshakeCompleted()`. A failed handshake reaches
 * `factory.clientConnectionFailed` as a TLSError; `timeout` covers the TCP
 * connect and the handshake together, and the options' `handshakeTimeout`
 * limits the handshake alone.
 *
 * Tests: test/tls.bun.test.ts
 * @module
 */
import type {
  ClientTLSOptions,
  INETAddress,
  IClientFactory,
  IProtocol,
  IReactorTime,
} from '@torsion/core';
import type { OpenResources } from '@torsion/core/reactor-kit';
import { tlsClosedDuringHandshake, tlsHandshakeTimeout } from '@torsion/core/reactor-kit';
import type { SocketHandler, TLSOptions } from 'bun';
import { Attempt, BunTCPConnector } from './bun-tcp-connector.js';
import type { ConnectorSettings } from './bun-tcp-connector.js';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';
import { clientHandshakeError } from './bun-tls-handshake.js';
import { bunClientTLS } from './bun-tls-options.js';
import { BunTLSTransport } from './bun-tls-transport.js';

/** The attempt whose socket is open and in its handshake. */
interface Handshake {
  readonly attempt: Attempt;
  readonly socket: BunSocket;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** An engine error reported before the close, kept as the close's cause. */
  error: Error | undefined;
}

/** The handlers of every outgoing TLS socket: one object for the whole process. */
const TLS_CONNECT_HANDLERS: SocketHandler<SocketData> = {
  ...BunTCPTransport.handlers,
  open(socket) {
    const attempt = socket.data;
    if (
      attempt instanceof Attempt &&
      attempt.live &&
      attempt.connector instanceof BunSSLConnector
    ) {
      attempt.connector.handshakeStarted(socket, attempt);
    } else {
      // An attempt given up on (timed out, stopped) that succeeded after all.
      socket.data = null;
      socket.terminate();
    }
  },
  handshake(socket, success, authorizationError) {
    const attempt = socket.data;
    if (attempt instanceof Attempt && attempt.connector instanceof BunSSLConnector) {
      attempt.connector.handshakeEnded(socket, attempt, success, authorizationError);
    }
  },
  connectError(socket, error) {
    const attempt = socket.data;
    socket.data = null;
    if (attempt instanceof Attempt && attempt.live) attempt.connector.connectFailed(attempt, error);
  },
  close(socket, error) {
    const attempt = socket.data;
    if (attempt instanceof Attempt) {
      socket.data = null;
      if (attempt.connector instanceof BunSSLConnector)
        attempt.connector.closedEarly(attempt, error);
    } else {
      void BunTCPTransport.handlers.close(socket, error);
    }
  },
  error(socket, error) {
    const attempt = socket.data;
    if (attempt instanceof Attempt) {
      if (attempt.connector instanceof BunSSLConnector)
        attempt.connector.handshakeError(attempt, error);
    } else {
      void BunTCPTransport.handlers.error(socket, error);
    }
  },
};

/** An outgoing TLS connection, created by `reactor.connectSSL()`. */
export class BunSSLConnector extends BunTCPConnector {
  readonly #options: ClientTLSOptions;
  #handshake: Handshake | null = null;

  constructor(
    resources: OpenResources,
    reactor: IReactorTime,
    factory: IClientFactory,
    settings: ConnectorSettings,
    options: ClientTLSOptions,
  ) {
    super(resources, reactor, factory, settings);
    this.#options = options;
  }

  /**
   * Bun's `open`: the TCP connection is made and the handshake has started.
   * @internal
   */
  handshakeStarted(socket: BunSocket, attempt: Attempt): void {
    const handshake: Handshake = { attempt, socket, timer: undefined, error: undefined };
    this.#handshake = handshake;
    const seconds = this.#options.handshakeTimeout;
    if (Number.isFinite(seconds)) {
      handshake.timer = setTimeout(() => {
        if (this.#handshake !== handshake) return;
        this.connectFailed(attempt, tlsHandshakeTimeout(this.#peer(), seconds));
      }, seconds * 1000);
    }
  }

  /**
   * Bun's `handshake`: connect the protocol if the server passed Torsion's checks.
   * @internal
   */
  handshakeEnded(
    socket: BunSocket,
    attempt: Attempt,
    success: boolean,
    authorizationError: Error | null,
  ): void {
    const handshake = this.#handshake;
    if (handshake?.attempt !== attempt || !attempt.live) {
      socket.data = null;
      socket.terminate();
      return;
    }
    const failure = clientHandshakeError(
      socket,
      this.#options,
      success,
      authorizationError,
      this.#peer(),
    );
    if (failure !== null) {
      this.connectFailed(attempt, failure);
      return;
    }
    this.#endHandshake();
    this.connected(socket, attempt);
  }

  /**
   * Bun's `error` during the handshake: kept for the close that follows.
   * @internal
   */
  handshakeError(attempt: Attempt, error: Error): void {
    if (this.#handshake?.attempt === attempt) this.#handshake.error = error;
  }

  /**
   * Bun's `close` before the handshake finished.
   * @internal
   */
  closedEarly(attempt: Attempt, error: Error | undefined): void {
    const handshake = this.#handshake;
    if (handshake?.attempt !== attempt || !attempt.live) return;
    this.#endHandshake();
    this.connectFailed(attempt, tlsClosedDuringHandshake(this.#peer(), error ?? handshake.error));
  }

  /** `Bun.connect` with the options' `tls` and the TLS handlers. */
  protected override connectOptions(): { socket: SocketHandler<SocketData>; tls: TLSOptions } {
    return { socket: TLS_CONNECT_HANDLERS, tls: bunClientTLS(this.#options) };
  }

  protected override makeTransport(
    socket: BunSocket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
    writeHighWaterMark: number,
  ): BunTCPTransport {
    return new BunTLSTransport(socket, protocol, host, peer, this, writeHighWaterMark);
  }

  /** Connects the protocol, then tells it the handshake completed. */
  protected override startTransport(transport: BunTCPTransport, protocol: IProtocol): void {
    super.startTransport(transport, protocol);
    if (transport instanceof BunTLSTransport) transport.handshakeCompleted();
  }

  /** Forgets the attempt, closing its socket if the handshake is under way. */
  protected override abandonAttempt(): void {
    super.abandonAttempt();
    const handshake = this.#handshake;
    if (handshake === null) return;
    this.#endHandshake();
    if (handshake.socket.data === handshake.attempt) {
      handshake.socket.data = null;
      handshake.socket.terminate();
    }
  }

  #endHandshake(): void {
    const handshake = this.#handshake;
    this.#handshake = null;
    if (handshake?.timer !== undefined) clearTimeout(handshake.timer);
  }

  #peer(): string {
    return this.getDestination().toString();
  }
}
