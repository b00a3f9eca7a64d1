/**
 * The socket file of a listening UNIX socket: telling a stale file from a
 * live one, putting a freshly bound socket in place with its mode already
 * set, and removing it only while it is still ours.
 *
 * Why bind under a temporary name: Node binds and listens in one call
 * (`server.listen({ path })`), and its own `readableAll`/`writableAll` chmod
 * the file only after `listen()`, so a client of any user could connect in
 * between, and no other mode can be asked for. Instead the socket is bound
 * inside a fresh directory of mode 0700 next to the final path (nobody but
 * this user can reach it there), chmod-ed, then hard-linked to the final
 * name. `link()` fails if the name exists, so a server that appeared meanwhile
 * is never replaced; and it is atomic, so the first client that can see the
 * socket already sees its final mode. A file system without hard links gets
 * `rename()` instead (atomic too, but it would replace a file that appeared
 * after the stale check). When the temporary name would be longer than the
 * kernel's limit for a socket path, the socket is bound in place and chmod-ed
 * before its first connection is accepted: a client could complete `connect()`
 * in that instant (the kernel checks the mode at connect time).
 *
 * Both reactors that bind real files share it: core's Node port and
 * `@torsion/reactor-bun`'s (through `@torsion/core/reactor-kit`).
 *
 * Tests: test/unix.integration.test.ts, and the UNIX section of the
 * conformance suite (@torsion/reactor-conformance) on the Node and Bun reactors
 * @module
 */
import { createConnection } from 'node:net';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  renameSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errorCode } from '../error-code.js';
import { MAX_UNIX_PATH_BYTES } from '../reactor-kit/argument-checks.js';
import { systemError } from './system-error.js';
import { acquireLock, lockPathFor, releaseLock } from './unix-lock.js';

/** Whether `path` is a Linux abstract-namespace name (no file at all). */
export function isAbstractName(path: string): boolean {
  return path.startsWith('\0');
}

/** What is at a socket path before binding. */
export type SocketFileState = 'absent' | 'stale' | 'live';

/**
 * Looks at `path`: nothing there, a socket file nothing listens on (a connect
 * is refused), or a live one (a connect succeeds).
 * @returns a promise that rejects with an EADDRINUSE-coded error for a file
 *   that is not a socket, or the probe's own error when it cannot tell (EACCES,
 *   a full backlog): a socket is never replaced on a guess.
 */
export function probeSocketFile(path: string): Promise<SocketFileState> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return Promise.resolve('absent');
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  if (!isSocket) {
    return Promise.reject(
      systemError('EADDRINUSE', `${path} exists and is not a socket; it was left alone`),
    );
  }
  return new Promise((resolve, reject) => {
    const probe = createConnection({ path });
    probe.on('connect', () => {
      probe.destroy();
      resolve('live');
    });
    probe.on('error', (err: Error) => {
      probe.destroy();
      const code = errorCode(err);
      if (code === 'ECONNREFUSED') resolve('stale');
      else if (code === 'ENOENT') resolve('absent');
      else reject(err);
    });
  });
}

/** A file's identity: the same inode on the same device is the same file. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** The identity of the file at `path`, or null if there is none. */
export function identityOf(path: string): FileIdentity | null {
  try {
    const stats = lstatSync(path);
    return { dev: stats.dev, ino: stats.ino };
  } catch {
    return null;
  }
}

/** Removes `path` if it is still the file `identity` names (a newer server's file is left alone). */
export function removeIfOurs(path: string, identity: FileIdentity | null): void {
  if (identity === null) return;
  const now = identityOf(path);
  if (now?.dev !== identity.dev || now.ino !== identity.ino) return;
  try {
    unlinkSync(path);
  } catch {
    // Removed meanwhile by someone else: nothing to do.
  }
}

/** Removes a stale socket file (ENOENT: already gone). */
export function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}

/**
 * Where to bind a socket that must appear at `path` with its mode set (see
 * the module comment). `null` when the temporary name would be too long: bind
 * at `path` itself.
 */
export interface TemporaryBinding {
  /** The private directory (mode 0700). */
  readonly directory: string;
  /** The socket's temporary name inside it. */
  readonly path: string;
}

/** Makes a private directory next to `path` to bind in, or returns null (see {@link TemporaryBinding}). */
export function temporaryBindingFor(path: string): TemporaryBinding | null {
  // mkdtemp adds six characters, then '/s': the final length is known in advance.
  const prefix = join(dirname(path), `.${basename(path).slice(0, 8)}-`);
  if (Buffer.byteLength(prefix) + 6 + 2 > MAX_UNIX_PATH_BYTES) return null;
  const directory = mkdtempSync(prefix);
  return { directory, path: join(directory, 's') };
}

/**
 * Puts the socket bound at `binding.path` at `path`, with `mode`, and removes
 * the private directory.
 * @throws Error with code EADDRINUSE if a file appeared at `path` meanwhile.
 */
export function publishSocket(binding: TemporaryBinding, path: string, mode: number): void {
  chmodSync(binding.path, mode);
  try {
    linkSync(binding.path, path);
    unlinkSync(binding.path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EEXIST') {
      throw systemError('EADDRINUSE', `${path} appeared while the socket was being bound`);
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    renameSync(binding.path, path);
  }
  discardTemporaryBinding(binding);
}

/** Removes a temporary binding's directory and anything left in it. */
export function discardTemporaryBinding(binding: TemporaryBinding): void {
  try {
    unlinkSync(binding.path);
  } catch {
    // Not bound, or already moved into place.
  }
  try {
    rmdirSync(binding.directory);
  } catch {
    // Gone already.
  }
}

/** What a {@link UNIXSocketFile} needs to know of the `listenUNIX` options. */
export interface UNIXSocketFileSettings {
  /** Permission bits of the socket file. */
  readonly mode: number;
  /** Hold `<path>.lock` while listening (Twisted's `wantPID`). */
  readonly wantPID: boolean;
}

/**
 * The life of one listening socket's file, whatever binds the socket (a
 * `net.Server` on Node, `Bun.listen` on Bun): {@link UNIXSocketFile.prepare}
 * takes the lock, tells a stale file from a live one and says where to bind;
 * {@link UNIXSocketFile.publish} puts the bound socket at its path with its
 * mode; {@link UNIXSocketFile.remove} takes the file and the lock away only
 * while they are still this one's; {@link UNIXSocketFile.abandon} undoes a
 * bind that failed. An abstract name has no file: every step but `prepare`
 * (which returns the name itself) does nothing.
 */
export class UNIXSocketFile {
  readonly path: string;
  readonly #settings: UNIXSocketFileSettings;
  #binding: TemporaryBinding | null = null;
  #identity: FileIdentity | null = null;
  #locked = false;

  constructor(path: string, settings: UNIXSocketFileSettings) {
    this.path = path;
    this.#settings = settings;
  }

  /**
   * Takes the lock (`wantPID`), probes the path, removes a stale socket file
   * and makes the private directory to bind in.
   * @returns where to bind the socket: a temporary name, or `path` itself.
   * @throws Error with code EADDRINUSE when the lock is held by a live
   *   process, a server listens at the path, or a file that is not a socket
   *   is there; the probe's or the file system's own error otherwise. The lock
   *   is released again on failure.
   */
  async prepare(): Promise<string> {
    const path = this.path;
    if (isAbstractName(path)) return path;
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
    try {
      const state = await probeSocketFile(path);
      if (state === 'live') {
        throw systemError('EADDRINUSE', `a server is listening on ${path}; it was left alone`);
      }
      // A stale file goes now; the new socket is linked in its place.
      if (state === 'stale' || staleByLock) removeStale(path);
      this.#binding = temporaryBindingFor(path);
      return this.#binding?.path ?? path;
    } catch (err) {
      this.abandon();
      throw err;
    }
  }

  /**
   * The socket is bound where {@link UNIXSocketFile.prepare} said: puts it
   * at its path with its mode and remembers which file it is.
   * @throws Error with code EADDRINUSE if a file appeared at the path meanwhile.
   */
  publish(): void {
    if (isAbstractName(this.path)) return;
    const binding = this.#binding;
    if (binding !== null) {
      publishSocket(binding, this.path, this.#settings.mode);
      this.#binding = null;
    } else {
      // The fallback of a path too long for a temporary name: chmod before the first accept.
      chmodSync(this.path, this.#settings.mode);
    }
    this.#identity = identityOf(this.path);
  }

  /** Undoes a bind that failed: removes the private directory and releases the lock. */
  abandon(): void {
    if (this.#binding !== null) {
      discardTemporaryBinding(this.#binding);
      this.#binding = null;
    }
    this.#releaseLock();
  }

  /** Removes the socket file and the lock, each only while it is still this one's. */
  remove(): void {
    if (isAbstractName(this.path)) return;
    removeIfOurs(this.path, this.#identity);
    this.#identity = null;
    this.#releaseLock();
  }

  #releaseLock(): void {
    if (!this.#locked) return;
    releaseLock(lockPathFor(this.path));
    this.#locked = false;
  }
}
