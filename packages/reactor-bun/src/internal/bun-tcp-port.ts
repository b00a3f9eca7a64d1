/**
 * `BunTCPPort`: a `Bun.listen` listener seen through IListeningPort, with the
 * semantics of core's Node port. Bun binds synchronously and throws when it
 * cannot; the port turns that into a failed `whenListening()` (logged when
 * nobody asks), never an exception out of `listenTCP`. When the process runs
 * out of file descriptors, the port closes the connections it has none for
 * and stops listening while none is spare (see descriptor-guard.ts): Bun's
 * listener would otherwise spin.
 *
 * Tests: test/listen.bun.test.ts, test/transport.bun.test.ts,
 * test/descriptor-exhaustion.bun.test.ts
 * @module
 */
import {
  addressFor,
  CannotListenError,
  Deferred,
  fail,
  describeType,
  Logger,
  succeed,
} from '@torsion/core';
import { buildProtocolSafely, callMethodSafely, THREW } from '@torsion/core/reactor-kit';
import type { IAddress, IListeningPort, IProtocolFactory } from '@torsion/core';
import type { OpenResources } from '@torsion/core/reactor-kit';
import type { SocketHandler } from 'bun';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';
import { spareDescriptors, unwatchDescriptors, watchDescriptors } from './descriptor-guard.js';
import type { DescriptorWatcher } from './descriptor-guard.js';

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

/** Bun's listener, as the port uses it. */
interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

/**
 * How long, in milliseconds, nothing must have happened (no connection closed
 * at once, no pause) before a shortage is over. A server that hovers at its
 * limit closes a connection now and then; this keeps its log to one line
 * when the shortage starts and one when it ends, rather than a pair per
 * connection.
 */
const SHORTAGE_QUIET_MS = 5000;

/**
 * One stretch of time during which the port ran out of file descriptors:
 * logged once when it starts and once when it ends, never per connection.
 */
interface Shortage {
  /** `performance.now()` when it started. */
  readonly since: number;
  /** Connections closed at once because they took the last descriptor. */
  closed: number;
  /** Times the port stopped listening for want of a descriptor. */
  pauses: number;
  /** `performance.now()` when a connection was last closed or the port last paused or resumed. */
  lastEvent: number;
  /** Why listening again failed, when not for want of descriptors; reported once. */
  relistenError: string | null;
}

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
export class BunTCPPort implements IListeningPort, DescriptorWatcher {
  readonly #settings: PortSettings;
  readonly #factory: IProtocolFactory;
  readonly #requestedPort: number;
  readonly #interface: string;
  /** `null` when closed, or while listening is paused for want of descriptors. */
  #listener: BunListener | null = null;
  /** The hostname the listener was bound to, to bind again after a pause. */
  #boundHostname = '';
  #state: PortState = 'closed';
  /** The current shortage of file descriptors, if any. */
  #shortage: Shortage | null = null;
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
    this.#boundHostname = listener.hostname;
    this.#host = addressFor('TCP', listener.hostname, listener.port);
    this.#state = 'listening';
    this.#settings.resources.addPort(this);
    watchDescriptors(this);
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
      unwatchDescriptors(this);
      // `false`: accepted connections are the protocols' to close, not the port's.
      // No listener while paused for want of descriptors: nothing to close then.
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
    if (!spareDescriptors()) {
      // This connection took the last free descriptor: served, it would leave
      // Bun's next accept() none, and Bun spins on a failed accept(). Closed
      // now, it gives the descriptor back to that accept(), which drains the
      // backlog one reset at a time (libuv's EMFILE trick).
      socket.data = null;
      socket.terminate();
      this.#noteShortage().closed++;
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
   * The watch's check: `spare` is whether a file descriptor is free. With
   * none, Bun's `accept()` fails and spins, so the port stops listening,
   * which also resets the connections waiting in the backlog; it listens
   * again once two descriptors are free: one for the listening socket, one
   * for Bun to accept with.
   * @internal
   */
  descriptorsChecked(spare: boolean): void {
    if (this.#state !== 'listening') return;
    const shortage = this.#shortage;
    if (this.#listener !== null) {
      if (!spare) {
        this.#listener.stop(false);
        this.#listener = null;
        this.#noteShortage().pauses++;
      } else if (
        shortage !== null &&
        performance.now() - shortage.lastEvent >= SHORTAGE_QUIET_MS &&
        spareDescriptors(2)
      ) {
        this.#endShortage(shortage);
      }
      return;
    }
    if (shortage === null || !spareDescriptors(2)) return;
    shortage.lastEvent = performance.now();
    try {
      this.#listener = this.#bind(this.#boundHostname, this.#host.port);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'EMFILE' || code === 'ENFILE' || shortage.relistenError !== null) return;
      // Another process took the port meanwhile, most likely: keep trying, say it once.
      shortage.relistenError = String(code ?? err);
      log.failure(
        'Could not listen again after running out of file descriptors; retrying',
        err,
        { port: this.#host.toString() },
        'warn',
      );
    }
  }

  /** The current shortage, started (and logged) if there is none. */
  #noteShortage(): Shortage {
    const now = performance.now();
    let shortage = this.#shortage;
    if (shortage === null) {
      shortage = { since: now, closed: 0, pauses: 0, lastEvent: now, relistenError: null };
      this.#shortage = shortage;
      log.warn(
        `Out of file descriptors (EMFILE/ENFILE): ${describeType(this.#factory)} on ` +
          `${this.#host.toString()} closes new connections at once, and stops listening ` +
          'while none is free, until some are freed',
        { port: this.#host.port },
      );
    }
    shortage.lastEvent = now;
    return shortage;
  }

  #endShortage(shortage: Shortage): void {
    this.#shortage = null;
    const seconds = (performance.now() - shortage.since) / 1000;
    log.info(
      `File descriptors are free again: ${describeType(this.#factory)} on ` +
        `${this.#host.toString()} serves new connections again`,
      {
        port: this.#host.port,
        closedAtOnce: shortage.closed,
        listeningPauses: shortage.pauses,
        seconds: Math.round(seconds * 1000) / 1000,
      },
    );
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

  #bind(hostname: string, port = this.#requestedPort): BunListener {
    return Bun.listen<SocketData>({
      hostname,
      port,
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
