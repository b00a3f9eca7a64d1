/**
 * `BunStreamConnector`: what every connector on `Bun.connect` shares,
 * whatever it connects to (a TCP address, a UNIX path): one attempt object
 * as the socket's `data` until it opens, one set of handlers for the whole
 * process, a failure Bun reports from inside `Bun.connect()` delivered on a
 * later turn, and an abandoned attempt (timed out or stopped) closed as soon
 * as Bun reports it open (Bun cannot cancel a connect in flight), never
 * reaching the factory. The subclass says where to dial, what addresses the
 * connection's ends have and how a failure is classified; the state machine,
 * the factory's callbacks and the timeout are core's BaseConnector.
 *
 * Tests: test/connector.bun.test.ts, test/transport.bun.test.ts,
 * test/unix.bun.test.ts
 * @module
 */
import type { ConnectError, IAddress, IProtocol } from '@torsion/core';
import { BaseConnector } from '@torsion/core/reactor-kit';
import type { SocketHandler, TLSOptions } from 'bun';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';

/**
 * One connection attempt: `socket.data` until the socket opens.
 * @internal
 */
export class Attempt {
  live = true;
  constructor(readonly connector: BunStreamConnector<IAddress>) {}
}

/** The handlers of every outgoing socket: one object for the whole process. */
const CONNECT_HANDLERS: SocketHandler<SocketData> = {
  open(socket) {
    const attempt = socket.data;
    if (attempt instanceof Attempt && attempt.live) {
      attempt.connector.connected(socket, attempt);
    } else {
      // An attempt given up on (timed out, stopped) that succeeded after all.
      socket.data = null;
      socket.terminate();
    }
  },
  connectError(socket, error) {
    const attempt = socket.data;
    socket.data = null;
    if (attempt instanceof Attempt && attempt.live) attempt.connector.connectFailed(attempt, error);
  },
  ...BunTCPTransport.handlers,
};

/** Where `Bun.connect` dials: a host and port, or a UNIX path. */
export type BunDialTarget = { hostname: string; port: number } | { unix: string };

/** An outgoing connection on `Bun.connect`. */
export abstract class BunStreamConnector<A extends IAddress> extends BaseConnector<
  BunTCPTransport<A>
> {
  #attempt: Attempt | null = null;
  /** Inside `Bun.connect()`: a failure it reports now is delivered on a later turn. */
  #dialing = false;

  /** The write high-water mark of the connection, in bytes. */
  protected abstract get writeHighWaterMark(): number;

  /** Classifies a failure of this connector's attempt. */
  protected abstract connectErrorFor(err: unknown): ConnectError;

  /** This end's and the peer's addresses of a socket Bun reports open. */
  protected abstract addressesOf(socket: BunSocket): { host: A; peer: A };

  /**
   * Bun's `connectError` (or a failed lookup) for `attempt`.
   * @internal
   */
  connectFailed(attempt: Attempt, err: unknown): void {
    if (attempt !== this.#attempt) return;
    if (this.#dialing) {
      // Never call the factory from inside connect().
      setImmediate(() => {
        this.connectFailed(attempt, err);
      });
      return;
    }
    this.attemptFailed(this.connectErrorFor(err));
  }

  /**
   * Bun's `open` for `attempt`: the connection is made.
   * @internal
   */
  connected(socket: BunSocket, attempt: Attempt): void {
    if (attempt !== this.#attempt) {
      socket.data = null;
      socket.terminate();
      return;
    }
    this.#attempt = null;
    attempt.live = false;
    const { host, peer } = this.addressesOf(socket);
    const hwm = this.writeHighWaterMark;
    this.attemptSucceeded(peer, (protocol) =>
      this.makeTransport(socket, protocol, host, peer, hwm),
    );
  }

  /** The transport for the connected socket (a TLS connector makes a TLS one). */
  protected makeTransport(
    socket: BunSocket,
    protocol: IProtocol,
    host: A,
    peer: A,
    writeHighWaterMark: number,
  ): BunTCPTransport<A> {
    return new BunTCPTransport<A>(socket, protocol, host, peer, this, writeHighWaterMark);
  }

  /** What `Bun.connect` is given besides the address: the handlers, and for TLS its `tls` options. */
  protected connectOptions(): { socket: SocketHandler<SocketData>; tls?: TLSOptions } {
    return { socket: CONNECT_HANDLERS };
  }

  /** A new attempt; dial it with {@link BunStreamConnector.dial} (after a lookup, maybe). */
  protected newAttempt(): Attempt {
    const attempt = new Attempt(this);
    this.#attempt = attempt;
    return attempt;
  }

  /** Forgets the attempt: if Bun still connects it, `open` closes the socket. */
  protected abandonAttempt(): void {
    const attempt = this.#attempt;
    this.#attempt = null;
    if (attempt !== null) attempt.live = false;
  }

  /** Attaches the protocol to the new connection. */
  protected startTransport(transport: BunTCPTransport<A>, protocol: IProtocol): void {
    void protocol;
    transport.start();
  }

  /** Calls `Bun.connect` for `attempt`. */
  protected dial(attempt: Attempt, target: BunDialTarget): void {
    this.#dialing = true;
    try {
      const common = { allowHalfOpen: true, data: attempt, ...this.connectOptions() };
      // Two calls: Bun's overloads take a TCP target or a UNIX one, not their union.
      const connecting =
        'unix' in target
          ? Bun.connect<SocketData>({ ...common, unix: target.unix })
          : Bun.connect<SocketData>({ ...common, hostname: target.hostname, port: target.port });
      connecting.catch(ignore);
    } catch (err) {
      // Options Bun rejects at once are reported like any failure, on a later turn.
      setImmediate(() => {
        if (attempt.live) this.connectFailed(attempt, err);
      });
    } finally {
      this.#dialing = false;
    }
  }
}

function ignore(): void {}
