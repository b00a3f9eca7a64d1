/**
 * `UNIXPort`: a `net.Server` listening on a UNIX-domain socket, seen through
 * IListeningPort. Before binding it looks at the path: a socket file nothing
 * listens on (left by a server that crashed) is replaced, a live one never
 * is, and anything else is left alone; with `wantPID` the `<path>.lock` file
 * (internal/unix-lock.ts) decides first. The socket appears at its path with
 * its mode already set (see internal/unix-socket-file.ts for how), and
 * `stopListening()` removes the file, and the lock, only while they are
 * still this port's. An abstract-namespace name has no file: no mode, no
 * stale check, nothing to remove. The state, the waiters and
 * `doStart`/`doStop` are BasePort's.
 *
 * Tests: test/unix.integration.test.ts, and the UNIX section of the
 * conformance suite (@torsion/reactor-conformance) on the Node reactor
 * @module
 */
import { chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { UNIXAddress } from '../address.js';
import type { IProtocolFactory } from '../interfaces.js';
import { Logger } from '../log.js';
import { BasePort } from '../reactor-kit/base-port.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { THREW } from '../reactor-kit/call-safely.js';
import type { Registry } from './registry.js';
import { systemError } from './system-error.js';
import { acquireLock, lockPathFor, releaseLock } from './unix-lock.js';
import {
  discardTemporaryBinding,
  identityOf,
  isAbstractName,
  probeSocketFile,
  publishSocket,
  removeIfOurs,
  removeStale,
  temporaryBindingFor,
  type FileIdentity,
  type TemporaryBinding,
} from './unix-socket-file.js';
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
export class UNIXPort extends BasePort<UNIXAddress> {
  readonly #registry: Registry;
  readonly #path: string;
  readonly #settings: UNIXPortSettings;
  readonly #server: Server;
  /** The bound socket file, to remove on close only if it is still this one. */
  #identity: FileIdentity | null = null;
  /** The lock is this port's (wantPID). */
  #locked = false;
  #binding: TemporaryBinding | null = null;

  constructor(
    registry: Registry,
    path: string,
    factory: IProtocolFactory,
    settings: UNIXPortSettings,
  ) {
    const address = new UNIXAddress(path);
    super({
      resources: registry,
      factory,
      port: -1,
      iface: address.toString(),
      host: address,
      log,
    });
    this.#registry = registry;
    this.#path = path;
    this.#settings = settings;
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

  protected bind(): void {
    const path = this.#path;
    if (isAbstractName(path)) {
      this.#listen(path);
      return;
    }
    let staleByLock = false;
    if (this.#settings.wantPID) {
      const outcome = acquireLock(lockPathFor(path));
      if (!outcome.acquired) {
        throw systemError(
          'EADDRINUSE',
          `${lockPathFor(path)} is held by the live process ${String(outcome.pid)}`,
        );
      }
      this.#locked = true;
      staleByLock = !outcome.clean;
    }
    probeSocketFile(path).then(
      (state) => {
        if (this.stopRequested && !this.hasBound) {
          this.#bindFailed(new Error('stopListening() was called before the port was bound'));
          return;
        }
        if (state === 'live') {
          this.#bindFailed(
            systemError('EADDRINUSE', `a server is listening on ${path}; it was left alone`),
          );
          return;
        }
        try {
          // A stale file goes now; the new socket is linked in its place.
          if (state === 'stale' || staleByLock) removeStale(path);
          this.#binding = temporaryBindingFor(path);
          this.#listen(this.#binding?.path ?? path);
        } catch (err) {
          this.#bindFailed(err);
        }
      },
      (err: unknown) => {
        this.#bindFailed(err);
      },
    );
  }

  protected close(): void {
    // server.close()'s own callback waits for every accepted connection to end;
    // the listening socket itself is released at once, so report that instead.
    this.#server.close();
    this.#removeFiles();
    setImmediate(() => {
      this.closed();
    });
  }

  #listen(path: string): void {
    try {
      this.#server.listen({ path, backlog: this.#settings.backlog });
    } catch (err) {
      // Node validates some options synchronously; report them like any bind failure.
      setImmediate(() => {
        this.#bindFailed(err);
      });
    }
  }

  #listening(): void {
    const path = this.#path;
    if (!isAbstractName(path)) {
      try {
        const binding = this.#binding;
        if (binding !== null) {
          publishSocket(binding, path, this.#settings.mode);
          this.#binding = null;
        } else {
          chmodInPlace(path, this.#settings.mode);
        }
        this.#identity = identityOf(path);
      } catch (err) {
        this.#server.close();
        this.#bindFailed(err);
        return;
      }
    }
    this.bound(new UNIXAddress(path));
  }

  #bindFailed(err: unknown): void {
    if (this.#binding !== null) {
      discardTemporaryBinding(this.#binding);
      this.#binding = null;
    }
    if (this.#locked) {
      releaseLock(lockPathFor(this.#path));
      this.#locked = false;
    }
    this.bindFailed(err);
  }

  #removeFiles(): void {
    if (isAbstractName(this.#path)) return;
    removeIfOurs(this.#path, this.#identity);
    this.#identity = null;
    if (this.#locked) {
      releaseLock(lockPathFor(this.#path));
      this.#locked = false;
    }
  }

  #serverError(err: Error): void {
    if (!this.hasBound) {
      this.#bindFailed(err);
      return;
    }
    // After the bind: an accept() failure (EMFILE…). Node keeps listening.
    this.log.failure('Error on listening port', err, { port: this.getHost().toString() }, 'warn');
  }

  #accept(socket: Socket): void {
    if (!this.accepting) {
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const host = this.getHost();
    const protocol = buildProtocolSafely(log, this.factory, UNNAMED);
    if (protocol === THREW || protocol === null) {
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const transport = new UNIXTransport(
      socket,
      protocol,
      host,
      UNNAMED,
      this.#registry,
      this.#registry.writeHighWaterMark,
    );
    this.#registry.addTransport(transport);
    transport.start();
  }
}

function ignoreError(): void {}

/** The fallback of a path too long to bind under a temporary name: chmod before the first accept. */
function chmodInPlace(path: string, mode: number): void {
  chmodSync(path, mode);
}
