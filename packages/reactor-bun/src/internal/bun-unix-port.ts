/**
 * `BunUNIXPort`: a `Bun.listen({ unix })` listener seen through
 * IListeningPort, with the semantics of core's Node UNIX port, sharing its
 * socket-file code (`UNIXSocketFile` from `@torsion/core/reactor-kit`): a
 * stale socket file is replaced and a live one never, `wantPID` holds
 * `<path>.lock`, the socket appears at its path with its `mode` already set,
 * and `stopListening()` removes the file only while it is still this port's.
 *
 * Two things Bun does on its own make the shared code matter here. Bun has no
 * `mode` option (the file gets the umask's): the socket is bound inside a
 * private 0700 directory, chmod-ed, then hard-linked to its path. And Bun's
 * `stop()` unlinks the path it was given to listen on, whoever's file is
 * there by then: since that path is the temporary name (already gone once
 * the socket is published), what Bun removes is nothing, and the final name
 * goes only through `UNIXSocketFile.remove()`'s same-inode check. A path too
 * long for a temporary name is bound in place (see unix-socket-file.ts); then
 * Bun's `stop()` removes whatever is at the path, a documented limit.
 *
 * Tests: test/unix.bun.test.ts, test/conformance.bun.test.ts (UNIX section)
 * @module
 */
import { Logger, UNIXAddress } from '@torsion/core';
import type { IProtocolFactory } from '@torsion/core';
import {
  BasePort,
  buildProtocolSafely,
  THREW,
  UNIXSocketFile,
  type OpenResources,
  type UNIXSocketFileSettings,
} from '@torsion/core/reactor-kit';
import type { SocketHandler } from 'bun';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';

const log = new Logger('torsion.unix');

/** A client's own end, which the kernel reports without a name. */
const UNNAMED = new UNIXAddress(null);

/** The handlers of every UNIX listener; an accepted socket's `data` starts as its port. */
const LISTEN_HANDLERS: SocketHandler<SocketData> = {
  open(socket) {
    const port = socket.data;
    if (port instanceof BunUNIXPort) port.accept(socket);
    else socket.terminate();
  },
  ...BunTCPTransport.handlers,
};

/** Bun's UNIX listener, as the port uses it. */
interface BunListener {
  stop(closeActiveConnections?: boolean): void;
}

/** What a UNIX port needs: the reactor's resources and the checked `listenUNIX` options. */
export interface BunUNIXPortSettings extends UNIXSocketFileSettings {
  readonly resources: OpenResources;
  /** Write high-water mark given to each accepted connection, in bytes. */
  readonly writeHighWaterMark: number;
}

/** A UNIX-domain socket listening for connections. Created by `reactor.listenUNIX()`. */
export class BunUNIXPort extends BasePort<UNIXAddress> {
  readonly #settings: BunUNIXPortSettings;
  readonly #file: UNIXSocketFile;
  #listener: BunListener | null = null;

  constructor(settings: BunUNIXPortSettings, path: string, factory: IProtocolFactory) {
    const address = new UNIXAddress(path);
    super({
      resources: settings.resources,
      factory,
      port: -1,
      iface: address.toString(),
      host: address,
      log,
    });
    this.#settings = settings;
    this.#file = new UNIXSocketFile(path, settings);
  }

  /** Probes the path (asynchronously), then binds: Bun's `listen` itself is synchronous. */
  protected bind(): void {
    this.#file.prepare().then(
      (bindPath) => {
        if (this.stopRequested && !this.hasBound) {
          this.bindFailed(new Error('stopListening() was called before the port was bound'));
          return;
        }
        try {
          this.#listener = Bun.listen<SocketData>({
            unix: bindPath,
            // Torsion decides what the peer's FIN means (see IHalfCloseableProtocol).
            allowHalfOpen: true,
            data: this,
            socket: LISTEN_HANDLERS,
          });
          this.#file.publish();
        } catch (err) {
          this.#listener?.stop(false);
          this.#listener = null;
          this.bindFailed(err);
          return;
        }
        this.bound(new UNIXAddress(this.#file.path));
      },
      (err: unknown) => {
        this.bindFailed(err);
      },
    );
  }

  /** Stops the listener and removes the file if still ours; closed on the next turn. */
  protected close(): void {
    // `false`: accepted connections are the protocols' to close, not the port's.
    this.#listener?.stop(false);
    this.#listener = null;
    this.#file.remove();
    setImmediate(BunUNIXPort.#closedSoon, this);
  }

  /** Undoes what the bind had done (the private directory, the lock) before reporting. */
  protected override bindFailed(err: unknown): void {
    this.#file.abandon();
    super.bindFailed(err);
  }

  static #closedSoon(port: BunUNIXPort): void {
    port.closed();
  }

  /**
   * A connection arrived (Bun's `open` on an accepted socket).
   * @internal
   */
  accept(socket: BunSocket): void {
    if (!this.accepting) {
      socket.data = null;
      socket.terminate();
      return;
    }
    const { writeHighWaterMark } = this.#settings;
    const protocol = buildProtocolSafely(log, this.factory, UNNAMED);
    if (protocol === THREW || protocol == null) {
      socket.data = null;
      socket.end();
      return;
    }
    const transport = new BunTCPTransport<UNIXAddress>(
      socket,
      protocol,
      this.getHost(),
      UNNAMED,
      this,
      writeHighWaterMark,
    );
    this.addConnection(transport);
    transport.start();
  }
}
