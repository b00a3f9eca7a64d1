/**
 * `NetSocketConnector`: what every connector whose attempt is one
 * `net.Socket` shares, whatever it connects to (a TCP address, a UNIX path):
 * the socket made with `allowHalfOpen`, tied to the connector through a
 * symbol so one pair of static listeners serves every attempt (no closure per
 * attempt), an attempt's socket detached once it is decided so a late event
 * of an abandoned one is ignored (a late connect is closed), and connect
 * options Node rejects synchronously reported like any failure. The subclass
 * says what to connect to, how to classify a failure and what a connected
 * socket becomes.
 *
 * Tests: test/tcp-connector.integration.test.ts, test/unix.integration.test.ts
 * @module
 */
import { Socket } from 'node:net';
import type { NetConnectOpts } from 'node:net';
import type { ConnectError } from '../errors.js';
import type { IStreamTransport } from '../interfaces.js';
import { BaseConnector } from '../reactor-kit/base-connector.js';

const kConnector = Symbol('torsion.connector');
interface ConnectingSocket extends Socket {
  [kConnector]?: NetSocketConnector<IStreamTransport> | undefined;
}

/** A connector whose every attempt is one `net.Socket`. */
export abstract class NetSocketConnector<T extends IStreamTransport> extends BaseConnector<T> {
  #socket: ConnectingSocket | null = null;

  /** Where this attempt's socket connects (read per attempt). */
  protected abstract connectOptions(): NetConnectOpts;

  /** The ConnectError a failed attempt's socket error stands for. */
  protected abstract connectErrorFor(err: Error): ConnectError;

  /**
   * The socket is connected: end the attempt (usually with
   * `attemptSucceeded`). Its `'error'` listener, which now ignores events,
   * is still attached: remove it with {@link NetSocketConnector.releaseSocket}
   * once a transport listens.
   */
  protected abstract socketConnected(socket: Socket): void;

  protected startAttempt(): void {
    const socket: ConnectingSocket = new Socket({ allowHalfOpen: true });
    socket[kConnector] = this;
    this.#socket = socket;
    socket.on('error', NetSocketConnector.#onSocketError);
    socket.once('connect', NetSocketConnector.#onSocketConnect);
    try {
      socket.connect(this.connectOptions());
    } catch (err) {
      // Bad options are rejected synchronously; report them like any failure ('error' follows).
      socket.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  protected abandonAttempt(): void {
    const socket = this.#detachSocket();
    // Its 'error' listener stays (and now ignores events): a late error is harmless.
    socket?.destroy();
  }

  /** Removes the connector's `'error'` listener from a connected socket its transport now owns. */
  protected releaseSocket(socket: Socket): void {
    socket.removeListener('error', NetSocketConnector.#onSocketError);
  }

  #detachSocket(): ConnectingSocket | null {
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) socket[kConnector] = undefined;
    return socket;
  }

  static #onSocketError(this: ConnectingSocket, err: Error): void {
    const connector = this[kConnector];
    if (connector === undefined || connector.#socket !== this) return;
    connector.attemptFailed(connector.connectErrorFor(err));
  }

  static #onSocketConnect(this: ConnectingSocket): void {
    const connector = this[kConnector];
    if (connector === undefined || connector.#socket !== this) {
      this.destroy();
      return;
    }
    connector.#detachSocket();
    connector.socketConnected(this);
  }
}
