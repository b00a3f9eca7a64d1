/**
 * `TCPPort`: a listening socket (a `net.Server`) seen through IListeningPort.
 * Binding is asynchronous in Node, so the port is returned at once and
 * `whenListening()` reports the outcome; a bind failure never becomes an
 * unhandled `'error'`, and is logged when nobody asked for it.
 *
 * Tests: test/tcp.integration.test.ts, test/node-reactor.test.ts
 * @module
 */
import { createServer } from 'node:net';
import type { ListenOptions, Server, Socket } from 'node:net';
import { addressFor } from '../address.js';
import type { IAddress } from '../address.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { Deferred, fail, succeed } from '../deferred.js';
import { CannotListenError } from '../errors.js';
import type { IListeningPort, IProtocolFactory } from '../interfaces.js';
import { Logger } from '../log.js';
import { callMethodSafely, THREW } from '../reactor-kit/call-safely.js';
import type { Registry } from './registry.js';
import { TCPTransport } from './tcp-transport.js';
import { describeType } from '../describe-type.js';

const log = new Logger('torsion.tcp');

type PortState = 'binding' | 'listening' | 'stopping' | 'closed' | 'failed';

/**
 * A TCP port listening for connections. Created by `reactor.listenTCP()`.
 *
 * @remarks `factory.doStart()` runs once the port is bound and
 * `factory.doStop()` once it has stopped listening; a port that never bound
 * calls neither.
 */
export class TCPPort implements IListeningPort {
  readonly #registry: Registry;
  readonly #factory: IProtocolFactory;
  readonly #requestedPort: number;
  readonly #interface: string;
  readonly #backlog: number;
  readonly #server: Server;
  #state: PortState = 'binding';
  /** The bind succeeded (even if the port has stopped since). */
  #bound = false;
  #host: IAddress;
  #failure: CannotListenError | null = null;
  #listenWaiters: Deferred<IListeningPort>[] = [];
  #stopWaiters: Deferred<void>[] = [];

  /**
   * @param registry - the reactor's open resources; the port adds itself when it starts listening.
   * @param port - 0..65535 (validated by the reactor).
   * @param factory - builds a protocol per connection.
   * @param backlog - pending-connection queue length.
   * @param iface - address to bind; `''` for Node's default (all interfaces).
   */
  constructor(
    registry: Registry,
    port: number,
    factory: IProtocolFactory,
    backlog: number,
    iface: string,
  ) {
    this.#registry = registry;
    this.#factory = factory;
    this.#requestedPort = port;
    this.#interface = iface;
    this.#backlog = backlog;
    this.#host = addressFor('TCP', iface === '' ? '0.0.0.0' : iface, 0);
    this.#server = createServer({ allowHalfOpen: true });
    this.#server.on('connection', (socket: Socket) => {
      this.#accept(socket);
    });
    this.#server.on('error', (err: Error) => {
      this.#serverError(err);
    });
    this.#server.on('listening', () => {
      this.#listening();
    });
  }

  /**
   * Starts binding. Called once, by the reactor.
   * @internal
   */
  startListening(): void {
    this.#registry.addPort(this);
    const options: ListenOptions = { port: this.#requestedPort, backlog: this.#backlog };
    if (this.#interface !== '') options.host = this.#interface;
    try {
      this.#server.listen(options);
    } catch (err) {
      // Node validates some options synchronously; report them like any bind failure.
      setImmediate(() => {
        this.#serverError(err instanceof Error ? err : new Error(String(err)));
      });
    }
  }

  /**
   * A Deferred that fires with this port once it is bound, or fails with
   * CannotListenError. Each call returns a new Deferred.
   */
  whenListening(): Deferred<IListeningPort> {
    if (this.#failure !== null) return fail<IListeningPort>(this.#failure);
    if (!this.#bound) {
      const d = new Deferred<IListeningPort>();
      this.#listenWaiters.push(d);
      return d;
    }
    return succeed<IListeningPort>(this);
  }

  /**
   * Stops accepting connections. Connections already accepted stay open.
   * @returns a Deferred that fires once the listening socket is closed (at once if it already is).
   */
  stopListening(): Deferred<void> {
    switch (this.#state) {
      case 'closed':
      case 'failed': {
        const fired = new Deferred<void>();
        fired.callback(undefined);
        return fired;
      }
      case 'binding':
        // Closed as soon as the bind completes; see #listening.
        this.#state = 'stopping';
        break;
      case 'listening':
        this.#state = 'stopping';
        this.#close();
        break;
      case 'stopping':
        break;
    }
    const d = new Deferred<void>();
    this.#stopWaiters.push(d);
    return d;
  }

  /** The bound address; port 0 until the bind completes. */
  getHost(): IAddress {
    return this.#host;
  }

  /** @returns a short description for logs. */
  toString(): string {
    return `TCPPort(${this.#host.toString()}, ${describeType(this.#factory)})`;
  }

  #listening(): void {
    const bound = this.#server.address();
    if (bound !== null && typeof bound === 'object') {
      this.#host = addressFor('TCP', bound.address, bound.port);
    }
    if (this.#state === 'stopping') {
      // stopListening() came before the bind finished: the port never served.
      this.#fail(new Error('stopListening() was called before the port was bound'), false);
      this.#server.close();
      this.#finishStop(false);
      return;
    }
    this.#bound = true;
    this.#state = 'listening';
    callMethodSafely(
      log,
      'Unhandled error in doStart',
      { port: this.#host.toString() },
      this.#factory,
      'doStart',
    );
    log.info(`${describeType(this.#factory)} starting on ${this.#host.toString()}`, {
      port: this.#host.port,
    });
    const waiters = this.#listenWaiters;
    this.#listenWaiters = [];
    for (const d of waiters) d.callback(this);
  }

  #serverError(err: Error): void {
    if (!this.#bound) {
      if (this.#failure !== null) return;
      // A caller that already gave up with stopListening() does not need the log line.
      this.#fail(err, this.#state !== 'stopping');
      this.#finishStop(false);
      return;
    }
    // After the bind: an accept() failure (EMFILE…). Node keeps listening.
    log.failure('Error on listening port', err, { port: this.#host.toString() }, 'warn');
  }

  /** Records a bind failure and reports it to every whenListening() caller, or logs it. */
  #fail(cause: Error, logIfUnobserved: boolean): void {
    const failure = new CannotListenError(this.#interface, this.#requestedPort, { cause });
    this.#failure = failure;
    const waiters = this.#listenWaiters;
    this.#listenWaiters = [];
    if (waiters.length === 0) {
      if (logIfUnobserved) log.failure('Could not listen', failure, { port: this.#requestedPort });
      return;
    }
    for (const d of waiters) d.errback(failure);
  }

  #close(): void {
    // server.close()'s own callback waits for every accepted connection to end;
    // the listening socket itself is released at once, so report that instead.
    this.#server.close();
    setImmediate(() => {
      this.#finishStop(true);
    });
  }

  #finishStop(wasListening: boolean): void {
    this.#state = this.#failure === null ? 'closed' : 'failed';
    this.#registry.portClosed(this);
    if (wasListening) {
      log.info(`${describeType(this.#factory)} stopped listening on ${this.#host.toString()}`, {
        port: this.#host.port,
      });
      callMethodSafely(
        log,
        'Unhandled error in doStop',
        { port: this.#host.toString() },
        this.#factory,
        'doStop',
      );
    }
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }

  #accept(socket: Socket): void {
    const remoteHost = socket.remoteAddress;
    if (this.#state !== 'listening' || remoteHost === undefined || this.#registry.closed) {
      // Stopped meanwhile, or the peer already went away (reset before accept).
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const peer = addressFor('TCP', remoteHost, socket.remotePort ?? 0);
    const host = addressFor(
      'TCP',
      socket.localAddress ?? this.#host.host,
      socket.localPort ?? this.#host.port,
    );
    const protocol = buildProtocolSafely(log, this.#factory, peer);
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
