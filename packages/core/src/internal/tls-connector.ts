/**
 * `TLSConnector`: an outgoing TLS connection, made by NodeReactor's
 * `connectSSL`. The TCP connection is made as by {@link TCPConnector}; then
 * `tls.connect({ socket })` runs the handshake on it, verifying the server as
 * the options say (certificate chain, then the host name through the
 * options' `checkServerIdentity`; Node refuses a server that fails either
 * when verification is on). Only once the handshake completed does the
 * attempt succeed and the protocol get built and connected; a failure
 * reaches `clientConnectionFailed` as a TLSError with its code. The
 * connector's `timeout` covers the TCP connect and the handshake together,
 * and the options' `handshakeTimeout` bounds the handshake alone.
 *
 * Tests: test/tls.integration.test.ts, test/tls-failures.integration.test.ts,
 * test/tls-openssl.integration.test.ts
 * @module
 */
import type { Socket } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { INETAddress } from '../address.js';
import type { TLSError } from '../errors.js';
import type { IClientFactory, IDelayedCall, IProtocol, IReactorTime } from '../interfaces.js';
import {
  tlsClosedDuringHandshake,
  tlsErrorFor,
  tlsHandshakeTimeout,
} from '../reactor-kit/tls-errors.js';
import type { ClientTLSOptions } from '../tls-options.js';
import type { Registry } from './registry.js';
import { TCPConnector, type ConnectorSettings } from './tcp-connector.js';
import { clientSocketOptions } from './tls-context.js';
import { TLSTransport } from './tls-transport.js';

const kConnector = Symbol('torsion.tlsConnector');
interface HandshakingSocket extends TLSSocket {
  [kConnector]?: TLSConnector | undefined;
}

/** The handshake of the current attempt. */
interface ClientHandshake {
  readonly tlsSocket: HandshakingSocket;
  readonly tcpSocket: Socket;
  readonly host: INETAddress;
  readonly peer: INETAddress;
  timer: IDelayedCall | null;
}

/**
 * An outgoing TLS connection, created by `reactor.connectSSL()`; an
 * IConnector like the TCP one (see {@link TCPConnector}).
 */
export class TLSConnector extends TCPConnector {
  readonly #registry: Registry;
  readonly #clock: Pick<IReactorTime, 'callLater'>;
  readonly #options: ClientTLSOptions;
  readonly #socketOptions: ConnectionOptions;
  #handshake: ClientHandshake | null = null;

  /**
   * @param registry - the reactor's open resources.
   * @param clock - times attempts and handshakes out (the reactor).
   * @param factory - the client factory.
   * @param settings - where to connect, and the attempt's timeout.
   * @param options - made by `optionsForClientTLS()` (validated by the reactor).
   */
  constructor(
    registry: Registry,
    clock: IReactorTime,
    factory: IClientFactory,
    settings: ConnectorSettings,
    options: ClientTLSOptions,
  ) {
    super(registry, clock, factory, settings);
    this.#registry = registry;
    this.#clock = clock;
    this.#options = options;
    this.#socketOptions = clientSocketOptions(options);
  }

  /** The options each attempt's handshake is made with. */
  get tlsOptions(): ClientTLSOptions {
    return this.#options;
  }

  // ------------------------------------------------------------ TCPConnector's hooks

  protected override tcpConnected(socket: Socket, host: INETAddress, peer: INETAddress): void {
    let tlsSocket: HandshakingSocket;
    try {
      tlsSocket = connect({ ...this.#socketOptions, socket });
    } catch (err) {
      // Not expected (the options were built up front); fail this attempt only.
      socket.destroy();
      this.attemptFailed(tlsErrorFor(err, this.getDestination().toString()));
      return;
    }
    tlsSocket[kConnector] = this;
    const handshake: ClientHandshake = { tlsSocket, tcpSocket: socket, host, peer, timer: null };
    this.#handshake = handshake;
    tlsSocket.on('error', TLSConnector.#onError);
    tlsSocket.on('close', TLSConnector.#onClose);
    tlsSocket.once('secureConnect', TLSConnector.#onSecureConnect);
    handshake.timer = this.#clock.callLater(
      this.#options.handshakeTimeout,
      TLSConnector.#timedOut,
      this,
      handshake,
    );
  }

  protected override abandonAttempt(): void {
    super.abandonAttempt();
    const handshake = this.#detachHandshake();
    // Its listeners stay (and now ignore events): a late error is harmless.
    handshake?.tlsSocket.destroy();
  }

  // ------------------------------------------------------------ internals

  #detachHandshake(): ClientHandshake | null {
    const handshake = this.#handshake;
    this.#handshake = null;
    if (handshake !== null) {
      handshake.tlsSocket[kConnector] = undefined;
      const timer = handshake.timer;
      handshake.timer = null;
      if (timer?.active() === true) timer.cancel();
    }
    return handshake;
  }

  #failed(error: TLSError): void {
    // attemptFailed() abandons the attempt, which destroys the socket.
    this.attemptFailed(error);
  }

  #secured(tlsSocket: HandshakingSocket): void {
    const handshake = this.#detachHandshake();
    if (handshake === null) return;
    const destination = this.getDestination().toString();
    // Node destroys the socket for an unverified server unless verification
    // is off; this is a second lock on the same door.
    if (!this.#options.insecureSkipVerify && !tlsSocket.authorized) {
      tlsSocket.destroy();
      this.#failed(
        tlsErrorFor(
          Object.assign(new Error(`Server not verified: ${String(tlsSocket.authorizationError)}`), {
            code: tlsSocket.authorizationError,
          }),
          destination,
        ),
      );
      return;
    }
    tlsSocket.removeListener('error', TLSConnector.#onError);
    tlsSocket.removeListener('close', TLSConnector.#onClose);
    this.attemptSucceeded(handshake.peer, (protocol: IProtocol) => {
      return new TLSTransport(
        tlsSocket,
        handshake.tcpSocket,
        protocol,
        handshake.host,
        handshake.peer,
        this,
        this.#registry.writeHighWaterMark,
      );
    });
  }

  // Shared listeners: `this` is the TLS socket.
  static #onSecureConnect(this: HandshakingSocket): void {
    const connector = this[kConnector];
    if (connector === undefined) {
      this.destroy();
      return;
    }
    connector.#secured(this);
  }

  static #onError(this: HandshakingSocket, err: Error): void {
    const connector = this[kConnector];
    if (connector === undefined) return;
    connector.#failed(tlsErrorFor(err, connector.getDestination().toString()));
  }

  static #onClose(this: HandshakingSocket): void {
    const connector = this[kConnector];
    if (connector === undefined) return;
    connector.#failed(tlsClosedDuringHandshake(connector.getDestination().toString()));
  }

  static #timedOut(connector: TLSConnector, handshake: ClientHandshake): void {
    handshake.timer = null;
    if (connector.#handshake !== handshake) return;
    connector.#failed(
      tlsHandshakeTimeout(
        connector.getDestination().toString(),
        connector.#options.handshakeTimeout,
      ),
    );
  }
}
