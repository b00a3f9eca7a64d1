/**
 * `TCPPort`: a listening socket (a `net.Server`) seen through IListeningPort.
 * Binding is asynchronous in Node, so the port is returned at once and
 * `whenListening()` reports the outcome; a bind failure never becomes an
 * unhandled `'error'`. The state, the waiters, `doStart`/`doStop` and the
 * logging are BasePort's, the server's events and the close
 * NetServerPort's; this file binds and accepts.
 *
 * Tests: test/tcp.integration.test.ts, test/node-reactor.test.ts,
 * test/tcp-reset-storm.integration.test.ts, test/tcp-shared-read.integration.test.ts
 * @module
 */
import type { ListenOptions, Socket } from 'node:net';
import { addressFor, type INETAddress } from '../address.js';
import type { IProtocol, IProtocolFactory } from '../interfaces.js';
import { Logger } from '../log.js';
import { NetServerPort } from './net-server-port.js';
import type { Registry } from './registry.js';
import { TCPTransport } from './tcp-transport.js';

const log = new Logger('torsion.tcp');

/**
 * A TCP port listening for connections. Created by `reactor.listenTCP()`.
 *
 * @remarks `factory.doStart()` runs once the port is bound and
 * `factory.doStop()` once it has stopped listening; a port that never bound
 * calls neither.
 */
export class TCPPort extends NetServerPort<INETAddress> {
  readonly #backlog: number;
  #wildcardFor: string | null = null;
  #wildcard = false;
  #lastLocal: INETAddress | null = null;

  /**
   * @param registry - the reactor's open resources; the port adds itself when it starts listening.
   * @param port - 0..65535 (validated by the reactor).
   * @param factory - builds a protocol per connection.
   * @param backlog - pending-connection queue length.
   * @param iface - address to bind; `''` for Node's default (all interfaces).
   * @param portLog - where the port's own events are logged (a TLS port uses `torsion.tls`).
   */
  constructor(
    registry: Registry,
    port: number,
    factory: IProtocolFactory,
    backlog: number,
    iface: string,
    portLog: Logger = log,
  ) {
    super(registry, {
      resources: registry,
      factory,
      port,
      iface,
      host: addressFor('TCP', iface === '' ? '0.0.0.0' : iface, 0),
      log: portLog,
    });
    this.#backlog = backlog;
  }

  protected bind(): void {
    const options: ListenOptions = { port: this.requestedPort, backlog: this.#backlog };
    if (this.requestedInterface !== '') options.host = this.requestedInterface;
    this.listenWith(options);
  }

  /**
   * The factory opted in, and this is a plain TCP port: a subclass (a TLS
   * port) wraps its sockets in something that must not read into a buffer
   * that changes under it. Never under Bun (the Node reactor run by Bun):
   * its `node:net` has no libuv handle whose accepted sockets can be given
   * the `onread` option, and a socket set up that way fails on its first
   * read (`data.destroy is not a function`, seen with `bun torsion
   * --reactor node echo`).
   */
  protected override readsIntoSharedBuffer(): boolean {
    return (
      process.versions.bun === undefined &&
      Object.getPrototypeOf(this) === TCPPort.prototype &&
      (this.factory as { readsIntoSharedBuffer?: unknown }).readsIntoSharedBuffer === true
    );
  }

  protected listening(): void {
    const address = this.server.address();
    this.bound(
      address !== null && typeof address === 'object'
        ? addressFor('TCP', address.address, address.port)
        : this.getHost(),
    );
  }

  protected accept(socket: Socket): void {
    const remoteHost = socket.remoteAddress;
    if (!this.accepting || remoteHost === undefined) {
      // Stopped meanwhile, or the peer already went away (reset before accept).
      this.refuse(socket);
      return;
    }
    const peer = addressFor('TCP', remoteHost, socket.remotePort ?? 0);
    // Node caches what getpeername() returned on the socket; the peer address
    // above is what this connection keeps, so the cache need not live on
    // (one object less per idle connection).
    forgetPeerName(socket);
    const bound = this.getHost();
    // A port bound to one address accepts every connection on it: its
    // connections share the port's address object (no getsockname call, no
    // object per connection). A wildcard port asks each socket.
    const host = this.#boundToWildcard(bound.host) ? this.#localAddressOf(socket, bound) : bound;
    this.connectionAccepted(socket, host, peer);
  }

  /**
   * This end's address of a connection accepted on a wildcard port. Most
   * connections arrive on the same local address as the one before, so the
   * address object of the last one is shared when it matches (addresses are
   * immutable); Node's cached getsockname() result is dropped either way.
   */
  #localAddressOf(socket: Socket, bound: INETAddress): INETAddress {
    const localHost = socket.localAddress ?? bound.host;
    const localPort = socket.localPort ?? bound.port;
    const cached = socket as Socket & { _sockname?: unknown };
    if (cached._sockname !== undefined) cached._sockname = undefined;
    const last = this.#lastLocal;
    if (last?.host === localHost && last.port === localPort) return last;
    return (this.#lastLocal = addressFor('TCP', localHost, localPort));
  }

  /** isWildcard(host), remembered for the host the port is bound to (not a regex per connection). */
  #boundToWildcard(host: string): boolean {
    if (this.#wildcardFor !== host) {
      this.#wildcardFor = host;
      this.#wildcard = isWildcard(host);
    }
    return this.#wildcard;
  }

  /**
   * A connection arrived while the port accepts: builds its protocol and
   * starts its transport. A TLS port overrides it to run the handshake first.
   * @param socket - the accepted socket (`allowHalfOpen`).
   * @param host - this end's address.
   * @param peer - the remote address.
   */
  protected connectionAccepted(socket: Socket, host: INETAddress, peer: INETAddress): void {
    this.serve(socket, host, peer);
  }

  protected makeTransport(
    socket: Socket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
  ): TCPTransport {
    return new TCPTransport(socket, protocol, host, peer, this, this.registry.writeHighWaterMark);
  }
}

/** Drops the `{ address, family, port }` object Node keeps after `remoteAddress` was read. */
function forgetPeerName(socket: Socket): void {
  const cached = socket as Socket & { _peername?: unknown };
  if (cached._peername !== undefined) cached._peername = undefined;
}

/** An address that stands for every interface (`0.0.0.0`, `::`). */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '' || /^[0:]+$/.test(host);
}
