/**
 * `BunTCPPort`: a `Bun.listen` listener seen through IListeningPort, with the
 * semantics of core's Node port. Bun binds synchronously and throws when it
 * cannot; the port turns that into a failed `whenListening()` (logged when
 * nobody asks), never an exception out of `listenTCP`.
 *
 * Tests: test/listen.bun.test.ts, test/transport.bun.test.ts
 * @module
 */
import {
  addressFor,
  buildProtocolSafely,
  callMethodSafely,
  CannotListenError,
  Deferred,
  fail,
  describeType,
  Logger,
  succeed,
  THREW,
} from '@torsion/core';
import type { IAddress, IListeningPort, IProtocolFactory, OpenResources } from '@torsion/core';
import type { SocketHandler } from 'bun';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';

const log = new Logger('torsion.bun');

type PortState = 'listening' | 'stopping' | 'closed' | 'failed';

/**
 * The handlers of every listener: one object for the whole process. An
 * accepted socket's `data` starts as its listener's (the port) and becomes
 * its transport in `open`.
 */
const LISTEN_HANDLERS: SocketHandler<SocketData> = {
  open(socket) {
    const port = socket.data;
    if (port instanceof BunTCPPort) port.accept(socket);
    else socket.terminate();
  },
  ...BunTCPTransport.handlers,
};

/** Where a port needs to put what it opens. */
export interface PortSettings {
  readonly resources: OpenResources;
  /** Write high-water mark given to each accepted connection, in bytes. */
  readonly writeHighWaterMark: number;
}

/**
 * A TCP port listening for connections. Created by `reactor.listenTCP()`.
 *
 * @remarks Bun binds before `listenTCP()` returns, so `getHost()` has the
 * real port at once and `factory.doStart()` has run; `factory.doStop()`
 * runs once the port has stopped listening. A port that never bound calls
 * neither.
 */
export class BunTCPPort implements IListeningPort {
  readonly #settings: PortSettings;
  readonly #factory: IProtocolFactory;
  readonly #requestedPort: number;
  readonly #interface: string;
  #listener: { stop(closeActiveConnections?: boolean): void } | null = null;
  #state: PortState = 'closed';
  #host: IAddress;
  #failure: CannotListenError | null = null;
  /** Someone asked `whenListening()` after the bind failed. */
  #failureObserved = false;
  #stopWaiters: Deferred<void>[] = [];
  /** The local address of the last accepted connection, shared while it repeats. */
  #lastLocal: IAddress | null = null;

  /**
   * @param settings - the reactor's open resources and connection settings.
   * @param port - 0..65535 (validated by the reactor).
   * @param factory - builds a protocol per connection.
   * @param iface - address to bind; `''` for every interface (IPv6 and IPv4 where dual-stack).
   */
  constructor(settings: PortSettings, port: number, factory: IProtocolFactory, iface: string) {
    this.#settings = settings;
    this.#factory = factory;
    this.#requestedPort = port;
    this.#interface = iface;
    this.#host = addressFor('TCP', iface === '' ? '0.0.0.0' : iface, 0);
  }

  /**
   * Binds. Called once, by the reactor.
   * @internal
   */
  startListening(): void {
    let listener;
    try {
      listener = this.#bind(this.#interface === '' ? '::' : this.#interface);
    } catch (err) {
      if (this.#interface === '' && isNoIPv6(err)) {
        try {
          listener = this.#bind('0.0.0.0');
        } catch (err4) {
          this.#bindFailed(err4);
          return;
        }
      } else {
        this.#bindFailed(err);
        return;
      }
    }
    this.#listener = listener;
    this.#host = addressFor('TCP', listener.hostname, listener.port);
    this.#state = 'listening';
    this.#settings.resources.addPort(this);
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
  }

  /**
   * A Deferred that fires with this port once it is bound, or fails with
   * CannotListenError. Each call returns a new Deferred.
   */
  whenListening(): Deferred<IListeningPort> {
    if (this.#failure !== null) {
      this.#failureObserved = true;
      return fail<IListeningPort>(this.#failure);
    }
    return succeed<IListeningPort>(this);
  }

  /**
   * Stops accepting connections. Connections already accepted stay open.
   * @returns a Deferred that fires once the listening socket is closed (at once if it already is).
   */
  stopListening(): Deferred<void> {
    if (this.#state === 'closed' || this.#state === 'failed') {
      const fired = new Deferred<void>();
      fired.callback(undefined);
      return fired;
    }
    if (this.#state === 'listening') {
      this.#state = 'stopping';
      // `false`: accepted connections are the protocols' to close, not the port's.
      this.#listener?.stop(false);
      this.#listener = null;
      setImmediate(BunTCPPort.#finishStop, this);
    }
    const d = new Deferred<void>();
    this.#stopWaiters.push(d);
    return d;
  }

  /** The bound address (port 0 only if the bind failed). */
  getHost(): IAddress {
    return this.#host;
  }

  /** @returns a short description for logs. */
  toString(): string {
    return `BunTCPPort(${this.#host.toString()}, ${describeType(this.#factory)})`;
  }

  /**
   * A connection arrived (Bun's `open` on an accepted socket).
   * @internal
   */
  accept(socket: BunSocket): void {
    const { resources, writeHighWaterMark } = this.#settings;
    // No remote address: the peer already went away (reset before accept).
    const remoteHost = socket.remoteAddress as string | undefined;
    if (this.#state !== 'listening' || resources.closed || remoteHost === undefined) {
      socket.data = null;
      socket.terminate();
      return;
    }
    const peer = addressFor('TCP', remoteHost, socket.remotePort);
    const host = this.#localAddress(socket);
    const protocol = buildProtocolSafely(log, this.#factory, peer);
    if (protocol === THREW || protocol == null) {
      socket.data = null;
      socket.end();
      return;
    }
    const transport = new BunTCPTransport(
      socket,
      protocol,
      host,
      peer,
      resources,
      writeHighWaterMark,
    );
    resources.addTransport(transport);
    transport.start();
  }

  /**
   * This end's address for an accepted socket. Every connection a port
   * accepts on the same local address shares one address object: idle
   * connections are many, and each object would cost them all.
   */
  #localAddress(socket: BunSocket): IAddress {
    const localHost = socket.localAddress as string | undefined;
    if (localHost === undefined) return this.#host;
    const last = this.#lastLocal;
    if (last?.host === localHost && last.port === socket.localPort) return last;
    const address = addressFor('TCP', localHost, socket.localPort);
    this.#lastLocal = address;
    return address;
  }

  #bind(hostname: string): { hostname: string; port: number; stop(close?: boolean): void } {
    return Bun.listen<SocketData>({
      hostname,
      port: this.#requestedPort,
      // Torsion decides what the peer's FIN means (see IHalfCloseableProtocol).
      allowHalfOpen: true,
      data: this,
      socket: LISTEN_HANDLERS,
    });
  }

  #bindFailed(err: unknown): void {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.#failure = new CannotListenError(this.#interface, this.#requestedPort, { cause });
    this.#state = 'failed';
    // Reported like Node's asynchronous bind error: logged only if nobody asked by then.
    setImmediate(BunTCPPort.#reportUnobserved, this);
  }

  static #reportUnobserved(port: BunTCPPort): void {
    if (port.#failureObserved || port.#failure === null) return;
    log.failure('Could not listen', port.#failure, { port: port.#requestedPort });
  }

  static #finishStop(port: BunTCPPort): void {
    port.#state = 'closed';
    port.#settings.resources.portClosed(port);
    log.info(`${describeType(port.#factory)} stopped listening on ${port.#host.toString()}`, {
      port: port.#host.port,
    });
    callMethodSafely(
      log,
      'Unhandled error in doStop',
      { port: port.#host.toString() },
      port.#factory,
      'doStop',
    );
    const waiters = port.#stopWaiters;
    port.#stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }
}

/** Whether binding `::` failed because the machine has no IPv6. */
function isNoIPv6(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL' || code === 'EPROTONOSUPPORT';
}
