/**
 * `TCPPort`: a listening socket (a `net.Server`) seen through IListeningPort.
 * Binding is asynchronous in Node, so the port is returned at once and
 * `whenListening()` reports the outcome; a bind failure never becomes an
 * unhandled `'error'`. The state, the waiters, `doStart`/`doStop` and the
 * logging are BasePort's; this file binds, closes and accepts.
 *
 * Tests: test/tcp.integration.test.ts, test/node-reactor.test.ts
 * @module
 */
import { createServer } from 'node:net';
import type { ListenOptions, Server, Socket } from 'node:net';
import { addressFor, type INETAddress } from '../address.js';
import type { IProtocolFactory } from '../interfaces.js';
import { Logger } from '../log.js';
import { BasePort } from '../reactor-kit/base-port.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { THREW } from '../reactor-kit/call-safely.js';
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
export class TCPPort extends BasePort {
  readonly #registry: Registry;
  readonly #backlog: number;
  readonly #server: Server;

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
    super({
      resources: registry,
      factory,
      port,
      iface,
      host: addressFor('TCP', iface === '' ? '0.0.0.0' : iface, 0),
      log: portLog,
    });
    this.#registry = registry;
    this.#backlog = backlog;
    this.#server = createServer({ allowHalfOpen: true });
    this.#server.on('connection', (socket: Socket) => {
      this.#accept(socket);
    });
    this.#server.on('error', (err: Error) => {
      this.#serverError(err);
    });
    this.#server.on('listening', () => {
      const address = this.#server.address();
      this.bound(
        address !== null && typeof address === 'object'
          ? addressFor('TCP', address.address, address.port)
          : this.getHost(),
      );
    });
  }

  protected bind(): void {
    const options: ListenOptions = { port: this.requestedPort, backlog: this.#backlog };
    if (this.requestedInterface !== '') options.host = this.requestedInterface;
    try {
      this.#server.listen(options);
    } catch (err) {
      // Node validates some options synchronously; report them like any bind failure.
      setImmediate(() => {
        this.bindFailed(err);
      });
    }
  }

  protected close(): void {
    // server.close()'s own callback waits for every accepted connection to end;
    // the listening socket itself is released at once, so report that instead.
    this.#server.close();
    setImmediate(() => {
      this.closed();
    });
  }

  #serverError(err: Error): void {
    if (!this.hasBound) {
      this.bindFailed(err);
      return;
    }
    // After the bind: an accept() failure (EMFILE…). Node keeps listening.
    this.log.failure('Error on listening port', err, { port: this.getHost().toString() }, 'warn');
  }

  #accept(socket: Socket): void {
    const remoteHost = socket.remoteAddress;
    if (!this.accepting || remoteHost === undefined) {
      // Stopped meanwhile, or the peer already went away (reset before accept).
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const peer = addressFor('TCP', remoteHost, socket.remotePort ?? 0);
    const bound = this.getHost();
    // A port bound to one address accepts every connection on it: its
    // connections share the port's address object (no getsockname call, no
    // object per connection). A wildcard port asks each socket.
    const host = isWildcard(bound.host)
      ? addressFor('TCP', socket.localAddress ?? bound.host, socket.localPort ?? bound.port)
      : bound;
    this.connectionAccepted(socket, host, peer);
  }

  /**
   * A connection arrived while the port accepts: builds its protocol and
   * starts its transport. A TLS port overrides it to run the handshake first.
   * @param socket - the accepted socket (`allowHalfOpen`).
   * @param host - this end's address.
   * @param peer - the remote address.
   */
  protected connectionAccepted(socket: Socket, host: INETAddress, peer: INETAddress): void {
    const protocol = buildProtocolSafely(log, this.factory, peer);
    if (protocol === THREW || protocol === null) {
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const transport = new TCPTransport(
      socket,
      protocol,
      host,
      peer,
      this.#registry,
      this.#registry.writeHighWaterMark,
    );
    this.#registry.addTransport(transport);
    transport.start();
  }
}

function ignoreError(): void {}

/** An address that stands for every interface (`0.0.0.0`, `::`). */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '' || /^[0:]+$/.test(host);
}
