/**
 * `NetServerPort`: what every port on a `net.Server` shares, whatever it
 * listens on (a TCP address, a UNIX path): the server made with
 * `allowHalfOpen`, its events routed to the port, a bind that Node refuses
 * synchronously reported like any other bind failure, the close that
 * reports the listening socket released at once (not after every accepted
 * connection ended), accept errors after the bind logged and survived, and
 * serving an accepted socket: build the protocol (a factory that refuses or
 * throws costs only that socket), make the transport, register it, start it.
 * The subclass says how to bind and what address each end of a connection has.
 *
 * Tests: test/tcp.integration.test.ts, test/unix.integration.test.ts,
 * test/node-reactor.test.ts
 * @module
 */
import { createServer, Socket } from 'node:net';
import type { ListenOptions, Server, SocketConstructorOpts } from 'node:net';
import type { IAddress } from '../address.js';
import type { IProtocol } from '../interfaces.js';
import { BasePort, type BasePortOptions } from '../reactor-kit/base-port.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { THREW } from '../reactor-kit/call-safely.js';
import type { Registry } from './registry.js';
import { TCPTransport } from './tcp-transport.js';

/** A port listening with a `net.Server`. */
export abstract class NetServerPort<A extends IAddress> extends BasePort<A> {
  /** The reactor's open resources (the transports' owner). */
  protected readonly registry: Registry;
  /** The listening server. */
  protected readonly server: Server;

  protected constructor(registry: Registry, options: BasePortOptions<A>) {
    super(options);
    this.registry = registry;
    this.server = createServer({ allowHalfOpen: true });
    this.server.on('connection', (socket: Socket) => {
      this.accept(socket);
    });
    this.server.on('error', (err: Error) => {
      this.#serverError(err);
    });
    this.server.on('listening', () => {
      if (this.readsIntoSharedBuffer()) acceptIntoSharedBuffer(this.server);
      this.listening();
    });
  }

  /**
   * Whether this port's connections read into the shared buffer
   * (`factory.readsIntoSharedBuffer`); a port whose sockets are not plain
   * TCP transports says no. Default: no.
   */
  protected readsIntoSharedBuffer(): boolean {
    return false;
  }

  /** A connection arrived (`'connection'`). */
  protected abstract accept(socket: Socket): void;

  /** The server is bound (`'listening'`): report {@link BasePort.bound} or a failure. */
  protected abstract listening(): void;

  /** Starts listening; options Node rejects synchronously fail the bind on the next turn. */
  protected listenWith(options: ListenOptions): void {
    try {
      this.server.listen(options);
    } catch (err) {
      setImmediate(() => {
        this.bindFailed(err);
      });
    }
  }

  protected close(): void {
    // server.close()'s own callback waits for every accepted connection to end;
    // the listening socket itself is released at once, so report that instead.
    this.server.close();
    setImmediate(() => {
      this.closed();
    });
  }

  /** Closes a socket the port will not serve, ignoring its late errors. */
  protected refuse(socket: Socket): void {
    socket.on('error', ignoreError);
    socket.destroy();
  }

  /**
   * The transport for an accepted socket whose protocol is built. A method,
   * not a closure passed to {@link NetServerPort.serve}: nothing is allocated
   * per connection that does not outlive the accept.
   */
  protected abstract makeTransport(
    socket: Socket,
    protocol: IProtocol,
    host: A,
    peer: A,
  ): TCPTransport<A>;

  /**
   * Serves an accepted socket: builds its protocol for `peer`, makes its
   * transport ({@link NetServerPort.makeTransport}), registers and starts
   * it. A factory that returns null or throws (logged) gets the socket closed.
   */
  protected serve(socket: Socket, host: A, peer: A): void {
    const protocol = buildProtocolSafely(this.log, this.factory, peer);
    if (protocol === THREW || protocol === null) {
      this.refuse(socket);
      return;
    }
    const transport = this.makeTransport(socket, protocol, host, peer);
    this.addConnection(transport);
    transport.start();
  }

  #serverError(err: Error): void {
    if (!this.hasBound) {
      this.bindFailed(err);
      return;
    }
    // After the bind: an accept() failure (EMFILE…). Node keeps listening.
    this.log.failure('Error on listening port', err, { port: this.getHost().toString() }, 'warn');
  }
}

function ignoreError(): void {}

/** What `acceptIntoSharedBuffer` uses of Node's listening handle and server. */
interface ServerHandle {
  onconnection?: (this: ServerHandle, err: number, clientHandle: unknown) => void;
}
interface ServerInternals {
  _handle?: ServerHandle | null;
  _connections: number;
}

/**
 * Makes `server` create its sockets with the `onread` option, reading into
 * the shared buffer: Node's `net.Server` has no option for it, so the
 * listening handle's connection callback is replaced by one that builds the
 * socket as Node's does (allowHalfOpen, counted in `_connections`, `server`
 * set) plus `onread`, and emits `'connection'`. Errors and anything this
 * Node does differently go to Node's own callback.
 */
function acceptIntoSharedBuffer(server: Server): void {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  const original = handle?.onconnection;
  if (handle === undefined || handle === null || typeof original !== 'function') return;
  handle.onconnection = function (this: ServerHandle, err: number, clientHandle: unknown): void {
    if (err !== 0 || clientHandle === undefined) {
      original.call(this, err, clientHandle);
      return;
    }
    const socket = new Socket({
      handle: clientHandle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: TCPTransport.sharedRead,
    } as SocketConstructorOpts);
    internals._connections++;
    const withServer = socket as Socket & { server: Server; _server: Server };
    withServer.server = server;
    withServer._server = server;
    server.emit('connection', socket);
  };
}
