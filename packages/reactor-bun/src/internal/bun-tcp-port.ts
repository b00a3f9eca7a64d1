/**
 * `BunTCPPort`: a `Bun.listen` listener seen through IListeningPort, with the
 * semantics of core's Node port: the state, the waiters, `doStart`/`doStop`
 * and the logging are the kit's BasePort. Bun binds synchronously and throws
 * when it cannot; BasePort turns that into a failed `whenListening()` (logged
 * when nobody asks), never an exception out of `listenTCP`. When the process runs
 * out of file descriptors, the port closes the connections it has none for
 * and stops listening while none is spare (see descriptor-guard.ts): Bun's
 * listener would otherwise spin.
 *
 * Tests: test/listen.bun.test.ts, test/transport.bun.test.ts,
 * test/descriptor-exhaustion.bun.test.ts
 * @module
 */
import { addressFor, describeType, errorCode, Logger } from '@torsion/core';
import type { INETAddress, IProtocol, IProtocolFactory } from '@torsion/core';
import { BasePort, buildProtocolSafely, THREW } from '@torsion/core/reactor-kit';
import type { OpenResources } from '@torsion/core/reactor-kit';
import type { SocketHandler, TLSOptions } from 'bun';
import { isIP } from 'node:net';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';
import { spareDescriptors, unwatchDescriptors, watchDescriptors } from './descriptor-guard.js';
import type { DescriptorWatcher } from './descriptor-guard.js';

const log = new Logger('torsion.bun');

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
export class BunTCPPort extends BasePort implements DescriptorWatcher {
  readonly #settings: PortSettings;
  /** `null` when closed, or while listening is paused for want of descriptors. */
  #listener: BunListener | null = null;
  /** The hostname the listener was bound to, to bind again after a pause. */
  #boundHostname = '';
  /** The current shortage of file descriptors, if any. */
  #shortage: Shortage | null = null;
  /** The local address of the last accepted connection, shared while it repeats. */
  #lastLocal: INETAddress | null = null;
  /** Bound to one address rather than a wildcard: accepted sockets' local address is the port's. */
  #boundToOneAddress = false;

  /**
   * @param settings - the reactor's open resources and connection settings.
   * @param port - 0..65535 (validated by the reactor).
   * @param factory - builds a protocol per connection.
   * @param iface - address to bind; `''` for every interface (IPv6 and IPv4 where dual-stack).
   */
  constructor(settings: PortSettings, port: number, factory: IProtocolFactory, iface: string) {
    super({
      resources: settings.resources,
      factory,
      port,
      iface,
      host: addressFor('TCP', iface === '' ? '0.0.0.0' : iface, 0),
      log,
    });
    this.#settings = settings;
  }

  /** Binds at once: Bun's `listen` is synchronous, and throws when it cannot bind. */
  protected bind(): void {
    const iface = this.requestedInterface;
    let listener;
    try {
      listener = this.#bind(iface === '' ? '::' : iface);
    } catch (err) {
      if (iface !== '' || !isNoIPv6(err)) throw err;
      listener = this.#bind('0.0.0.0');
    }
    this.#listener = listener;
    this.#boundHostname = listener.hostname;
    this.#boundToOneAddress = isOneAddress(listener.hostname);
    watchDescriptors(this);
    this.bound(addressFor('TCP', listener.hostname, listener.port));
  }

  /** Stops the listener; the port reports itself closed on the next turn. */
  protected close(): void {
    unwatchDescriptors(this);
    // `false`: accepted connections are the protocols' to close, not the port's.
    // No listener while paused for want of descriptors: nothing to close then.
    this.#listener?.stop(false);
    this.#listener = null;
    setImmediate(BunTCPPort.#closedSoon, this);
  }

  static #closedSoon(port: BunTCPPort): void {
    port.closed();
  }

  /**
   * A connection arrived (Bun's `open` on an accepted socket).
   * @internal
   */
  accept(socket: BunSocket): void {
    if (this.admit(socket)) this.serve(socket);
  }

  /**
   * Whether a new socket may be served; if not, it is closed at once (the
   * port stopped accepting, the peer is already gone, or it took the last
   * free file descriptor).
   */
  protected admit(socket: BunSocket): boolean {
    // No remote address: the peer already went away (reset before accept).
    const remoteHost = socket.remoteAddress as string | undefined;
    if (!this.accepting || remoteHost === undefined) {
      socket.data = null;
      socket.terminate();
      return false;
    }
    if (!spareDescriptors()) {
      // This connection took the last free descriptor: served, it would leave
      // Bun's next accept() none, and Bun spins on a failed accept(). Closed
      // now, it gives the descriptor back to that accept(), which drains the
      // backlog one reset at a time (libuv's EMFILE trick).
      socket.data = null;
      socket.terminate();
      this.#noteShortage().closed++;
      return false;
    }
    return true;
  }

  /**
   * Builds the connection's protocol and transport and connects them.
   * @param peer - the remote address, if known from before (a TLS port's, from `open`).
   * @returns the started transport, or `null` if the factory refused or failed (the socket is closed).
   */
  protected serve(
    socket: BunSocket,
    peer: INETAddress = addressFor('TCP', socket.remoteAddress, socket.remotePort),
  ): BunTCPTransport | null {
    const { writeHighWaterMark } = this.#settings;
    const host = this.#localAddress(socket);
    const protocol = buildProtocolSafely(log, this.factory, peer);
    if (protocol === THREW || protocol == null) {
      socket.data = null;
      socket.end();
      return null;
    }
    const transport = this.makeTransport(socket, protocol, host, peer, writeHighWaterMark);
    this.addConnection(transport);
    transport.start();
    return transport;
  }

  /** The transport for a served socket (a TLS port makes a TLS one). */
  protected makeTransport(
    socket: BunSocket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
    writeHighWaterMark: number,
  ): BunTCPTransport {
    return new BunTCPTransport(socket, protocol, host, peer, this, writeHighWaterMark);
  }

  /**
   * What `Bun.listen` is given besides the address: the socket handlers, and
   * for a TLS port its `tls` options.
   */
  protected listenOptions(): { socket: SocketHandler<SocketData>; tls?: TLSOptions } {
    return { socket: LISTEN_HANDLERS };
  }

  /**
   * Listens again on the same address with {@link BunTCPPort.listenOptions}
   * as they are now (a TLS port's new certificates). Bun cannot change a
   * listener's options, so the listener is replaced: connections already
   * accepted stay open; one the kernel completed but Bun had not accepted
   * yet is reset. Does nothing while listening is paused for want of file
   * descriptors (the next bind uses the new options) or once closed.
   * @param restore - called when binding with the new options fails, to put
   *   the old ones back before binding with them again.
   * @throws the bind error (the port listens with the old options, if it can).
   */
  protected relisten(restore: () => void): void {
    const old = this.#listener;
    if (old === null || !this.accepting) return;
    const port = this.getHost().port;
    old.stop(false);
    this.#listener = null;
    try {
      this.#listener = this.#bind(this.#boundHostname, port);
    } catch (err) {
      restore();
      try {
        this.#listener = this.#bind(this.#boundHostname, port);
      } catch (again) {
        log.failure('Could not listen again after replacing the listener', again, {
          port: this.getHost().toString(),
        });
      }
      throw err;
    }
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
    if (!this.accepting) return;
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
      this.#listener = this.#bind(this.#boundHostname, this.getHost().port);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EMFILE' || code === 'ENFILE' || shortage.relistenError !== null) return;
      // Another process took the port meanwhile, most likely: keep trying, say it once.
      shortage.relistenError = String(code ?? err);
      log.failure(
        'Could not listen again after running out of file descriptors; retrying',
        err,
        { port: this.getHost().toString() },
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
        `Out of file descriptors (EMFILE/ENFILE): ${describeType(this.factory)} on ` +
          `${this.getHost().toString()} closes new connections at once, and stops listening ` +
          'while none is free, until some are freed',
        { port: this.getHost().port },
      );
    }
    shortage.lastEvent = now;
    return shortage;
  }

  #endShortage(shortage: Shortage): void {
    this.#shortage = null;
    const seconds = (performance.now() - shortage.since) / 1000;
    log.info(
      `File descriptors are free again: ${describeType(this.factory)} on ` +
        `${this.getHost().toString()} serves new connections again`,
      {
        port: this.getHost().port,
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
  #localAddress(socket: BunSocket): INETAddress {
    // Bound to one address, every connection's local address is the port's.
    // Asking the socket would cost each connection a string that Bun keeps
    // on the socket for as long as it is open.
    if (this.#boundToOneAddress) return this.getHost();
    const localHost = socket.localAddress as string | undefined;
    if (localHost === undefined) return this.getHost();
    const last = this.#lastLocal;
    if (last?.host === localHost && last.port === socket.localPort) return last;
    const address = addressFor('TCP', localHost, socket.localPort);
    this.#lastLocal = address;
    return address;
  }

  #bind(hostname: string, port = this.requestedPort): BunListener {
    return Bun.listen<SocketData>({
      hostname,
      port,
      // Torsion decides what the peer's FIN means (see IHalfCloseableProtocol).
      allowHalfOpen: true,
      data: this,
      ...this.listenOptions(),
    });
  }
}

/**
 * Whether `hostname` is one IP address, as accepted sockets report it: not
 * an any-address (connections arrive at several), a name, or a scoped
 * IPv6 address (whose zone the socket may spell differently).
 */
function isOneAddress(hostname: string): boolean {
  return (
    isIP(hostname) !== 0 && hostname !== '0.0.0.0' && hostname !== '::' && !hostname.includes('%')
  );
}

/** Whether binding `::` failed because the machine has no IPv6. */
function isNoIPv6(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL' || code === 'EPROTONOSUPPORT';
}
