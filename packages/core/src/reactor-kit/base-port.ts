/**
 * `BasePort`: what every reactor's listening port shares, as Twisted's
 * `base.BasePort`: the `binding → listening → stopping → closed` state (or
 * `failed`, for a bind that did not succeed), the `whenListening()` and
 * `stopListening()` waiters, `factory.doStart()`/`doStop()` around the time
 * the port listens, registration in {@link OpenResources}, and the logging of
 * a bind failure nobody waited for. A concrete port only does I/O: it binds,
 * closes its listening socket, and accepts connections (building each
 * protocol with `buildProtocolSafely`).
 *
 * Tests: test/reactor-kit/base-port.test.ts, test/tcp.integration.test.ts,
 * test/testing/simulated/simulated-reactor.test.ts,
 * and the listening part of the conformance suite (@torsion/reactor-conformance) on every
 * reactor
 * @module
 */
import type { IAddress, INETAddress } from '../address.js';
import { Deferred, fail, succeed } from '../deferred.js';
import { CannotListenError } from '../errors.js';
import type { Failure } from '../failure.js';
import type { IListeningPort, IProtocolFactory, IStreamTransport } from '../interfaces.js';
import { describeType } from '../describe-type.js';
import type { Logger } from '../log.js';
import { callMethodSafely } from './call-safely.js';
import type { OpenResources } from './open-resources.js';

/** What a {@link BasePort} needs from its reactor. */
export interface BasePortOptions<A extends IAddress = INETAddress> {
  /** The reactor's open resources: the port registers here while it is open. */
  readonly resources: OpenResources;
  /** The factory connections are built with. */
  readonly factory: IProtocolFactory;
  /** The port asked for (0 lets the OS choose). */
  readonly port: number;
  /** The interface asked for; `''` for every interface. */
  readonly iface: string;
  /** The address `getHost()` reports until the bind succeeds (port 0). */
  readonly host: A;
  /** Where the port's events are logged (the reactor's namespace). */
  readonly log: Logger;
}

type PortState = 'binding' | 'listening' | 'stopping' | 'closed' | 'failed';

/**
 * The shared half of an `IListeningPort`. Extend it to write a reactor's
 * port (TCP, TLS, UNIX, UDP); see "Writing a reactor" in docs/reactors.md.
 *
 * @remarks
 * The subclass implements {@link BasePort.bind} and {@link BasePort.close}.
 * `bind()` reports its outcome with exactly one of {@link BasePort.bound} or
 * {@link BasePort.bindFailed}, from inside the call (Bun binds synchronously)
 * or on a later turn (Node binds asynchronously; the simulated network binds
 * on its queue). `close()` reports with {@link BasePort.closed}, at once or
 * later. While {@link BasePort.accepting} holds, the subclass accepts
 * connections.
 *
 * `factory.doStart()` runs once the port is bound and `factory.doStop()` once
 * it has stopped listening; a port that never bound calls neither.
 * `stopListening()` before the bind completed makes `whenListening()` fail
 * with CannotListenError, and closes the socket if the bind succeeds anyway.
 * A bind failure is logged when nobody asked `whenListening()` by the turn
 * after it.
 */
export abstract class BasePort<A extends IAddress = INETAddress> implements IListeningPort<A> {
  /** The factory connections are built with. */
  readonly factory: IProtocolFactory;
  /** The reactor's open resources. */
  protected readonly resources: OpenResources;
  /** Where the port's events are logged. */
  protected readonly log: Logger;
  readonly #requestedPort: number;
  readonly #interface: string;
  #state: PortState = 'binding';
  /** The bind succeeded (even if the port has stopped since). */
  #bound = false;
  /** Inside `bind()`: a failure reported now is logged a turn later if nobody asks. */
  #binding = false;
  #host: A;
  #failure: CannotListenError | null = null;
  /** Someone asked `whenListening()` after the bind failed. */
  #failureObserved = false;
  #listenWaiters: Deferred<IListeningPort<A>>[] = [];
  #stopWaiters: Deferred<void>[] = [];
  /**
   * The accepted connections still open: one Set entry each (measured at
   * about 40 bytes per connection on Node), so that a graceful drain can
   * find them without wrapping every protocol.
   */
  readonly #connections = new Set<IStreamTransport>();

  /** @param options - see {@link BasePortOptions}. */
  protected constructor(options: BasePortOptions<A>) {
    this.factory = options.factory;
    this.resources = options.resources;
    this.log = options.log;
    this.#requestedPort = options.port;
    this.#interface = options.iface;
    this.#host = options.host;
  }

  // ------------------------------------------------------------ for the subclass to provide

  /**
   * Starts binding. Report the outcome with {@link BasePort.bound} or
   * {@link BasePort.bindFailed}, now or later; an exception thrown from here
   * counts as a failed bind.
   */
  protected abstract bind(): void;

  /**
   * Closes the listening socket (called once, after a successful bind).
   * Connections already accepted stay open. Report with
   * {@link BasePort.closed}, now or later.
   */
  protected abstract close(): void;

  // ------------------------------------------------------------ for the subclass to call

  /** The port asked for. */
  protected get requestedPort(): number {
    return this.#requestedPort;
  }

  /** The interface asked for; `''` for every interface. */
  protected get requestedInterface(): string {
    return this.#interface;
  }

  /** The bind succeeded (even if the port has stopped since). */
  protected get hasBound(): boolean {
    return this.#bound;
  }

  /** Whether stopListening() was called (or the bind failed): bind nothing more. */
  protected get stopRequested(): boolean {
    return this.#state !== 'binding' && this.#state !== 'listening';
  }

  /** Whether a connection that arrives now is served: listening, and the reactor still running. */
  protected get accepting(): boolean {
    return this.#state === 'listening' && !this.resources.closed;
  }

  /**
   * The bind succeeded at `host` (the port the OS chose, for port 0). Starts
   * the factory and fires `whenListening()` — unless `stopListening()` came
   * first, in which case the socket is closed again and the port never served.
   */
  protected bound(host: A): void {
    if (this.#bound || this.#failure !== null) return;
    this.#host = host;
    if (this.#state === 'stopping') {
      this.#fail(new Error('stopListening() was called before the port was bound'), false);
      this.#bound = true;
      this.close();
      return;
    }
    this.#bound = true;
    this.#state = 'listening';
    callMethodSafely(
      this.log,
      'Unhandled error in doStart',
      { port: host.toString() },
      this.factory,
      'doStart',
    );
    this.log.info(`${describeType(this.factory)} starting on ${host.toString()}`, {
      port: portField(host),
    });
    const waiters = this.#listenWaiters;
    this.#listenWaiters = [];
    for (const d of waiters) d.callback(this);
  }

  /**
   * The bind failed: `whenListening()` fails with a CannotListenError whose
   * `cause` is `err`, and the port is closed for good. Only the first
   * failure counts.
   */
  protected bindFailed(err: unknown): void {
    if (this.#bound || this.#failure !== null) return;
    const cause = err instanceof Error ? err : new Error(String(err));
    // A caller that already gave up with stopListening() does not need the log line.
    this.#fail(cause, this.#state !== 'stopping');
    this.#finish(false);
  }

  /** The listening socket is closed (after {@link BasePort.close}). */
  protected closed(): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#finish(this.#failure === null);
  }

  /**
   * Registers an accepted connection in the port's list, and counts it in
   * the reactor's open resources (which list it through the port). Call it before starting the transport, and give the
   * transport this port as its owner, so that
   * {@link BasePort.transportClosed} removes it again.
   */
  protected addConnection(transport: IStreamTransport): void {
    this.#connections.add(transport);
    this.resources.addAccepted(this);
  }

  /**
   * An accepted connection is gone (its protocol's `connectionLost` ran):
   * the transport's owner callback. Forgets it here and in the reactor's
   * open resources.
   */
  transportClosed(transport: IStreamTransport, reason: Failure): void {
    if (!this.#connections.delete(transport)) return;
    this.resources.acceptedClosed(this, reason);
  }

  // ------------------------------------------------------------ IListeningPort

  /**
   * The connections this port accepted that are still open, in the order
   * they were accepted; it still answers after `stopListening()`, which
   * leaves them open. A live view: a connection that closes while you
   * iterate is skipped, so copy it (`[...port.connections()]`) to close them.
   */
  connections(): IterableIterator<IStreamTransport> {
    return this.#connections.values();
  }

  /** How many connections this port accepted are still open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Starts binding: registers the port in the reactor's open resources and
   * calls {@link BasePort.bind}. The reactor calls it once, right after
   * building the port, from `listenTCP`.
   */
  startListening(): void {
    this.resources.addPort(this);
    this.#binding = true;
    try {
      this.bind();
    } catch (err) {
      this.bindFailed(err);
    } finally {
      this.#binding = false;
    }
  }

  /**
   * A Deferred that fires with this port once it is bound, or fails with
   * CannotListenError. Each call returns a new Deferred.
   */
  whenListening(): Deferred<IListeningPort<A>> {
    if (this.#failure !== null) {
      this.#failureObserved = true;
      return fail<IListeningPort<A>>(this.#failure);
    }
    if (this.#bound) return succeed<IListeningPort<A>>(this);
    const d = new Deferred<IListeningPort<A>>();
    this.#listenWaiters.push(d);
    return d;
  }

  /**
   * Stops accepting connections. Connections already accepted stay open.
   * @returns a Deferred that fires once the listening socket is closed (at once if it already is).
   */
  stopListening(): Deferred<void> {
    switch (this.#state) {
      case 'closed':
      case 'failed':
        return succeed<undefined>(undefined);
      case 'binding':
        // Closed as soon as the bind completes; see bound().
        this.#state = 'stopping';
        break;
      case 'listening':
        this.#state = 'stopping';
        this.close();
        break;
      case 'stopping':
        break;
    }
    // close() may have reported at once.
    if (this.#finished) return succeed<undefined>(undefined);
    const d = new Deferred<void>();
    this.#stopWaiters.push(d);
    return d;
  }

  /** The bound address; port 0 until the bind completes. */
  getHost(): A {
    return this.#host;
  }

  /** @returns e.g. `TCPPort(127.0.0.1:8000, EchoFactory)`. */
  toString(): string {
    return `${this.constructor.name}(${this.#host.toString()}, ${describeType(this.factory)})`;
  }

  // ------------------------------------------------------------ private

  /** Closed for good (a getter, so a state changed by a call it made is read afresh). */
  get #finished(): boolean {
    return this.#state === 'closed' || this.#state === 'failed';
  }

  /** Records a bind failure and reports it to every whenListening() caller, or logs it. */
  #fail(cause: Error, logIfUnobserved: boolean): void {
    const failure = new CannotListenError(this.#interface, this.#requestedPort, { cause });
    this.#failure = failure;
    const waiters = this.#listenWaiters;
    this.#listenWaiters = [];
    if (waiters.length > 0) {
      this.#failureObserved = true;
      for (const d of waiters) d.errback(failure);
      return;
    }
    if (!logIfUnobserved) return;
    // A bind that failed inside listenTCP() gives its caller no chance to ask
    // yet: wait a turn, as Node's asynchronous bind error would.
    if (this.#binding) setImmediate(BasePort.#reportUnobserved, this);
    else BasePort.#reportUnobserved(this);
  }

  static #reportUnobserved(port: BasePort<IAddress>): void {
    if (port.#failureObserved || port.#failure === null) return;
    port.log.failure('Could not listen', port.#failure, { port: port.#requestedPort });
  }

  #finish(wasListening: boolean): void {
    this.#state = this.#failure === null ? 'closed' : 'failed';
    this.resources.portClosed(this);
    if (wasListening) {
      this.log.info(`${describeType(this.factory)} stopped listening on ${this.#host.toString()}`, {
        port: portField(this.#host),
      });
      callMethodSafely(
        this.log,
        'Unhandled error in doStop',
        { port: this.#host.toString() },
        this.factory,
        'doStop',
      );
    }
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }
}

/** What a port's log events carry as `port`: the number, or a UNIX socket's path. */
function portField(host: IAddress): number | string | null {
  return host.family === 'UNIX' ? host.name : host.port;
}
