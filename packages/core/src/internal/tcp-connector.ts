/**
 * `TCPConnector`: an outgoing TCP connection that can be retried, as Twisted's
 * `tcp.Connector`. {@link BaseConnector} keeps the state, the timeout and the
 * factory's callbacks, NetSocketConnector the attempt's `net.Socket`; this
 * says where to connect and maps Node's connect errors to Torsion's
 * ConnectError family.
 *
 * Tests: test/tcp-connector.integration.test.ts, test/tcp.integration.test.ts
 * @module
 */
import type { LookupFunction, NetConnectOpts, Socket, TcpSocketConnectOpts } from 'node:net';
import { addressFor, type INETAddress } from '../address.js';
import { errorCode } from '../error-code.js';
import {
  ConnectBindError,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  TCPTimedOutError,
} from '../errors.js';
import type { IClientFactory, IProtocol, IReactorTime } from '../interfaces.js';
import { Logger } from '../log.js';
import { NetSocketConnector } from './net-socket-connector.js';
import type { Registry } from './registry.js';
import { TCPTransport } from './tcp-transport.js';
import type { TransportOwner } from './tcp-transport.js';

const log = new Logger('torsion.tcp');

/** Where and how to connect. */
export interface ConnectorSettings {
  readonly host: string;
  readonly port: number;
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  readonly bindAddress?: { host: string; port?: number };
  /** Name resolution to use instead of `dns.lookup` (tests use it to fail a lookup without a network). */
  readonly lookup?: LookupFunction;
}

/**
 * The error that decides a connect failure's class. Happy Eyeballs reports an
 * AggregateError of every address tried: the last one decides, since the
 * earlier ones may have been abandoned after Node's short per-address timeout
 * (ETIMEDOUT) while the last attempt ran to its real end.
 */
function decisiveError(err: Error): Error & { code?: unknown; syscall?: unknown } {
  if (err instanceof AggregateError) {
    for (const inner of (err.errors as unknown[]).slice().reverse()) {
      if (inner instanceof Error && errorCode(inner) !== undefined) {
        return decisiveError(inner);
      }
    }
  }
  return err;
}

/**
 * Classifies a Node connect error as ConnectionRefusedError, DNSLookupError,
 * ConnectBindError, NoRouteError, TCPTimedOutError, or else ConnectError.
 */
export function connectErrorFor(err: Error, destination: string): ConnectError {
  const decisive = decisiveError(err);
  const options = { cause: err };
  // Node fails the local bind of `bindAddress` with syscall 'bind', whatever the errno.
  if (decisive.syscall === 'bind') {
    return new ConnectBindError(
      `Could not bind the local address to connect to ${destination}: ${decisive.message}`,
      options,
    );
  }
  switch (decisive.code) {
    case 'ECONNREFUSED':
      return new ConnectionRefusedError(`Connection to ${destination} was refused`, options);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
    case 'EAI_FAIL':
      return new DNSLookupError(
        `DNS lookup failed for ${destination}: ${decisive.message}`,
        options,
      );
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new NoRouteError(`No route to ${destination}: ${decisive.message}`, options);
    case 'ETIMEDOUT':
      return new TCPTimedOutError(
        `The system timed out connecting to ${destination}: ${decisive.message}`,
        options,
      );
    default:
      return new ConnectError(`Could not connect to ${destination}: ${decisive.message}`, options);
  }
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
export class TCPConnector extends NetSocketConnector<TCPTransport> implements TransportOwner {
  readonly #registry: Registry;
  readonly #settings: ConnectorSettings;

  constructor(
    registry: Registry,
    clock: IReactorTime,
    factory: IClientFactory,
    settings: ConnectorSettings,
  ) {
    super({
      resources: registry,
      clock,
      reactor: clock,
      factory,
      destination: addressFor('TCP', settings.host, settings.port),
      timeout: settings.timeout,
      log,
    });
    this.#registry = registry;
    this.#settings = settings;
  }

  protected connectOptions(): NetConnectOpts {
    const { host, port, bindAddress, lookup } = this.#settings;
    const options: TcpSocketConnectOpts = { host, port };
    if (lookup !== undefined) options.lookup = lookup;
    if (bindAddress !== undefined) {
      options.localAddress = bindAddress.host;
      if (bindAddress.port !== undefined) options.localPort = bindAddress.port;
    }
    return options;
  }

  protected connectErrorFor(err: Error): ConnectError {
    return connectErrorFor(err, this.getDestination().toString());
  }

  protected startTransport(transport: TCPTransport): void {
    transport.start();
  }

  protected socketConnected(socket: Socket): void {
    const peer = addressFor(
      'TCP',
      socket.remoteAddress ?? this.#settings.host,
      socket.remotePort ?? this.#settings.port,
    );
    const host = addressFor('TCP', socket.localAddress ?? '0.0.0.0', socket.localPort ?? 0);
    this.tcpConnected(socket, host, peer);
  }

  /**
   * The TCP connection is up: ends the attempt with a transport. A TLS
   * connector overrides it to run the handshake first.
   * @param socket - the connected socket (`allowHalfOpen`); its `'error'`
   *   listener (which now ignores events) is still attached.
   * @param host - this end's address.
   * @param peer - the remote address.
   */
  protected tcpConnected(socket: Socket, host: INETAddress, peer: INETAddress): void {
    this.attemptSucceeded(peer, (protocol: IProtocol) => {
      const transport = new TCPTransport(
        socket,
        protocol,
        host,
        peer,
        this,
        this.#registry.writeHighWaterMark,
      );
      this.releaseSocket(socket);
      return transport;
    });
  }
}
