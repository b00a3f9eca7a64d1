/**
 * `BunTCPConnector`: an outgoing TCP connection on `Bun.connect`, retried as
 * Twisted's `tcp.Connector`, with the semantics of core's Node connector:
 * Bun's connect errors map to Torsion's ConnectError family, the attempt is
 * timed out by the reactor's own clock, and the client factory hears
 * `startedConnecting`, then `clientConnectionFailed` or, once connected,
 * `clientConnectionLost`.
 *
 * The state machine, the factory's callbacks and the timeout are core's
 * BaseConnector; this file is the I/O. Bun cannot cancel a connect in
 * flight: an abandoned attempt (timed out or stopped) is closed as soon as
 * Bun reports it open, and never reaches the factory.
 *
 * Tests: test/connector.bun.test.ts, test/transport.bun.test.ts
 * @module
 */
import {
  addressFor,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  errorCode,
  Logger,
  NoRouteError,
  TCPTimedOutError,
} from '@torsion/core';
import { BaseConnector } from '@torsion/core/reactor-kit';
import type { INETAddress, IClientFactory, IProtocol, IReactorTime } from '@torsion/core';
import type { OpenResources } from '@torsion/core/reactor-kit';
import type { SocketHandler, TLSOptions } from 'bun';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';

const log = new Logger('torsion.bun');

/** Resolves a host name to an address to connect to (tests inject one that fails without a network). */
export type HostLookup = (hostname: string) => Promise<string>;

/** Where and how to connect. */
export interface ConnectorSettings {
  readonly host: string;
  readonly port: number;
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  /** Write high-water mark of the connection, in bytes. */
  readonly writeHighWaterMark: number;
  /** Name resolution to use instead of Bun's own. */
  readonly lookup?: HostLookup;
}

/**
 * One connection attempt: `socket.data` until the socket opens.
 * @internal
 */
export class Attempt {
  live = true;
  constructor(readonly connector: BunTCPConnector) {}
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

/**
 * Classifies a Bun connect error as ConnectionRefusedError, DNSLookupError,
 * NoRouteError, TCPTimedOutError, or else ConnectError (as core's Node
 * connector does; Bun has no `bindAddress`, so no ConnectBindError).
 */
export function connectErrorFor(err: unknown, destination: string): ConnectError {
  // Already classified (a TLSError from a failed handshake).
  if (err instanceof ConnectError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') {
    return new ConnectionRefusedError(`Connection to ${destination} was refused`, {
      cause: error,
    });
  }
  if (code === 'ENOTFOUND' || code?.startsWith('EAI_') === true || code?.startsWith('DNS_')) {
    return new DNSLookupError(`DNS lookup failed for ${destination}: ${error.message}`, {
      cause: error,
    });
  }
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') {
    return new NoRouteError(`No route to ${destination}: ${error.message}`, { cause: error });
  }
  if (code === 'ETIMEDOUT') {
    return new TCPTimedOutError(
      `The system timed out connecting to ${destination}: ${error.message}`,
      { cause: error },
    );
  }
  return new ConnectError(`Could not connect to ${destination}: ${error.message}`, {
    cause: error,
  });
}

/**
 * An outgoing TCP connection, created by `reactor.connectTCP()`.
 *
 * @remarks
 * `factory.doStart()` runs when an attempt starts after the connector was
 * idle, and `factory.doStop()` when an attempt fails or a connection ends and
 * the factory did not call `connect()` again from its callback (so a
 * reconnecting factory stays started across retries).
 */
export class BunTCPConnector extends BaseConnector<BunTCPTransport> {
  readonly #settings: ConnectorSettings;
  #attempt: Attempt | null = null;
  /** Inside `Bun.connect()`: a failure it reports now is delivered on a later turn. */
  #dialing = false;

  constructor(
    resources: OpenResources,
    reactor: IReactorTime,
    factory: IClientFactory,
    settings: ConnectorSettings,
  ) {
    super({
      resources,
      clock: reactor,
      reactor,
      factory,
      destination: addressFor('TCP', settings.host, settings.port),
      timeout: settings.timeout,
      log,
    });
    this.#settings = settings;
  }

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
    this.attemptFailed(connectErrorFor(err, this.getDestination().toString()));
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
    // A peer that reset at once leaves Bun without addresses to report.
    const remoteHost = socket.remoteAddress as string | undefined;
    const localHost = socket.localAddress as string | undefined;
    const peer = addressFor(
      'TCP',
      remoteHost ?? this.#settings.host,
      remoteHost === undefined ? this.#settings.port : socket.remotePort,
    );
    const host = addressFor(
      'TCP',
      localHost ?? '0.0.0.0',
      localHost === undefined ? 0 : socket.localPort,
    );
    const { writeHighWaterMark } = this.#settings;
    this.attemptSucceeded(peer, (protocol) =>
      this.makeTransport(socket, protocol, host, peer, writeHighWaterMark),
    );
  }

  /** The transport for the connected socket (a TLS connector makes a TLS one). */
  protected makeTransport(
    socket: BunSocket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
    writeHighWaterMark: number,
  ): BunTCPTransport {
    return new BunTCPTransport(socket, protocol, host, peer, this, writeHighWaterMark);
  }

  /** What `Bun.connect` is given besides the address: the handlers, and for TLS its `tls` options. */
  protected connectOptions(): { socket: SocketHandler<SocketData>; tls?: TLSOptions } {
    return { socket: CONNECT_HANDLERS };
  }

  // ------------------------------------------------------------ for BaseConnector

  /** Starts `Bun.connect` (after the lookup, when one is configured). */
  protected startAttempt(): void {
    const attempt = new Attempt(this);
    this.#attempt = attempt;
    const { host, lookup } = this.#settings;
    if (lookup === undefined) {
      this.#dial(attempt, host);
      return;
    }
    lookup(host).then(
      (address) => {
        if (attempt.live) this.#dial(attempt, address);
      },
      (err: unknown) => {
        if (attempt.live) this.connectFailed(attempt, err);
      },
    );
  }

  /** Forgets the attempt: if Bun still connects it, `open` closes the socket. */
  protected abandonAttempt(): void {
    const attempt = this.#attempt;
    this.#attempt = null;
    if (attempt !== null) attempt.live = false;
  }

  /** Attaches the protocol to the new connection. */
  protected startTransport(transport: BunTCPTransport, protocol: IProtocol): void {
    void protocol;
    transport.start();
  }

  #dial(attempt: Attempt, hostname: string): void {
    this.#dialing = true;
    try {
      Bun.connect<SocketData>({
        hostname,
        port: this.#settings.port,
        allowHalfOpen: true,
        data: attempt,
        ...this.connectOptions(),
      }).catch(ignore);
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
