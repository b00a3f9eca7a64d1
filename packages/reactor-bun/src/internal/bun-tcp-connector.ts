/**
 * `BunTCPConnector`: an outgoing TCP connection on `Bun.connect`, retried as
 * Twisted's `tcp.Connector`, with the semantics of core's Node connector:
 * Bun's connect errors map to Torsion's ConnectError family, the attempt is
 * timed out by the reactor's own clock, and the client factory hears
 * `startedConnecting`, then `clientConnectionFailed` or, once connected,
 * `clientConnectionLost`.
 *
 * The state machine, the factory's callbacks and the timeout are core's
 * BaseConnector, the attempts on `Bun.connect` BunStreamConnector's
 * (bun-stream-connector.ts); this file says where to dial and classifies
 * failures.
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
import type { INETAddress, IClientFactory, IReactorTime } from '@torsion/core';
import type { OpenResources } from '@torsion/core/reactor-kit';
import { BunStreamConnector } from './bun-stream-connector.js';
import type { BunSocket } from './bun-tcp-transport.js';

export { Attempt } from './bun-stream-connector.js';

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
export class BunTCPConnector extends BunStreamConnector<INETAddress> {
  readonly #settings: ConnectorSettings;

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

  protected get writeHighWaterMark(): number {
    return this.#settings.writeHighWaterMark;
  }

  protected connectErrorFor(err: unknown): ConnectError {
    return connectErrorFor(err, this.getDestination().toString());
  }

  protected addressesOf(socket: BunSocket): { host: INETAddress; peer: INETAddress } {
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
    return { host, peer };
  }

  /** Starts `Bun.connect` (after the lookup, when one is configured). */
  protected startAttempt(): void {
    const attempt = this.newAttempt();
    const { host, port, lookup } = this.#settings;
    if (lookup === undefined) {
      this.dial(attempt, { hostname: host, port });
      return;
    }
    lookup(host).then(
      (address) => {
        if (attempt.live) this.dial(attempt, { hostname: address, port });
      },
      (err: unknown) => {
        if (attempt.live) this.connectFailed(attempt, err);
      },
    );
  }
}
