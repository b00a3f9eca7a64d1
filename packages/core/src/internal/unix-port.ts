/**
 * `UNIXPort`: a `net.Server` listening on a UNIX-domain socket, seen through
 * IListeningPort. Before binding it looks at the path: a socket file nothing
 * listens on (left by a server that crashed) is replaced, a live one never
 * is, and anything else is left alone; with `wantPID` the `<path>.lock` file
 * (internal/unix-lock.ts) decides first. The socket appears at its path with
 * its mode already set (see internal/unix-socket-file.ts for how), and
 * `stopListening()` removes the file, and the lock, only while they are
 * still this port's (internal/unix-socket-file.ts's UNIXSocketFile, shared
 * with the Bun reactor). An abstract-namespace name has no file: no mode, no
 * stale check, nothing to remove. The state, the waiters and
 * `doStart`/`doStop` are BasePort's, the server's events NetServerPort's.
 *
 * Tests: test/unix.integration.test.ts, and the UNIX section of the
 * conformance suite (@torsion/reactor-conformance) on the Node reactor
 * @module
 */
import type { Socket } from 'node:net';
import { UNIXAddress } from '../address.js';
import type { IProtocol, IProtocolFactory } from '../interfaces.js';
import { Logger } from '../log.js';
import { NetServerPort } from './net-server-port.js';
import type { Registry } from './registry.js';
import { UNIXSocketFile } from './unix-socket-file.js';
import { UNIXTransport } from './unix-transport.js';

const log = new Logger('torsion.unix');

/** `listenUNIX` options after the reactor's checks. */
export interface UNIXPortSettings {
  readonly backlog: number;
  /** Permission bits of the socket file. */
  readonly mode: number;
  readonly wantPID: boolean;
}

/** A client's own end, which the kernel reports without a name. */
const UNNAMED = new UNIXAddress(null);

/**
 * A UNIX-domain socket listening for connections. Created by
 * `reactor.listenUNIX()`.
 */
export class UNIXPort extends NetServerPort<UNIXAddress> {
  readonly #settings: UNIXPortSettings;
  readonly #file: UNIXSocketFile;

  constructor(
    registry: Registry,
    path: string,
    factory: IProtocolFactory,
    settings: UNIXPortSettings,
  ) {
    const address = new UNIXAddress(path);
    super(registry, {
      resources: registry,
      factory,
      port: -1,
      iface: address.toString(),
      host: address,
      log,
    });
    this.#settings = settings;
    this.#file = new UNIXSocketFile(path, settings);
  }

  protected bind(): void {
    this.#file.prepare().then(
      (bindPath) => {
        if (this.stopRequested && !this.hasBound) {
          this.bindFailed(new Error('stopListening() was called before the port was bound'));
          return;
        }
        this.listenWith({ path: bindPath, backlog: this.#settings.backlog });
      },
      (err: unknown) => {
        this.bindFailed(err);
      },
    );
  }

  protected override close(): void {
    super.close();
    this.#file.remove();
  }

  /** Undoes what the bind had done (the private directory, the lock) before reporting. */
  protected override bindFailed(err: unknown): void {
    this.#file.abandon();
    super.bindFailed(err);
  }

  protected listening(): void {
    try {
      this.#file.publish();
    } catch (err) {
      this.server.close();
      this.bindFailed(err);
      return;
    }
    this.bound(new UNIXAddress(this.#file.path));
  }

  protected accept(socket: Socket): void {
    if (!this.accepting) {
      this.refuse(socket);
      return;
    }
    this.serve(socket, this.getHost(), UNNAMED);
  }

  protected makeTransport(
    socket: Socket,
    protocol: IProtocol,
    host: UNIXAddress,
    peer: UNIXAddress,
  ): UNIXTransport {
    return new UNIXTransport(socket, protocol, host, peer, this, this.registry.writeHighWaterMark);
  }
}
