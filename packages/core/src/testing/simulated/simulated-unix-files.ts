/**
 * `SimulatedUNIXFiles`: the UNIX-socket side of one simulated host's file
 * system. Paths live in the host's own namespace (two hosts can both have
 * `/run/app.sock`), each naming a socket file (live while a port listens on
 * it, stale once nothing does), a plain file, or a `<path>.lock` lock
 * (`wantPID`). Abstract names (`'\0name'`) live apart and have no file. Tests
 * reach it as `host.unixFiles` to look at files and to make the states a real
 * machine gets into: a stale socket left by a crashed server, a plain file in
 * the way, a lock whose process is gone.
 *
 * Tests: test/testing/simulated/simulated-unix.test.ts, and the UNIX section of
 * the conformance suite on the simulated reactor
 * @module
 */
import type { SimulatedHost } from './simulated-host.js';

/** What a simulated listening UNIX port is to its host's files. @internal */
export interface SimulatedUNIXListener {
  /** Whether it still accepts connections. */
  readonly listening: boolean;
}

/** One entry of a host's simulated file system. */
type Entry =
  | { readonly kind: 'socket'; mode: number; listener: SimulatedUNIXListener | null }
  | { readonly kind: 'file'; readonly mode: number }
  | { readonly kind: 'lock'; holder: SimulatedUNIXListener | null };

/** Why a bind failed: the code of the error a real reactor reports. @internal */
export type BindRefusal = { readonly code: 'EADDRINUSE'; readonly why: string } | null;

/** The default mode of a socket file nobody chose a mode for (a umask of 022). */
const DEFAULT_SOCKET_MODE = 0o755;

/**
 * The UNIX socket files of one {@link SimulatedHost}. Modelled: socket files
 * with a mode, stale vs live, plain files, `<path>.lock` locks whose holder
 * is a port of this simulation (alive while it listens) or a process that is
 * gone ({@link SimulatedUNIXFiles.makeStaleLock}). Not modelled: directories
 * and their permissions (any path can be bound), users (the mode is recorded
 * and reported, never enforced), PIDs (a lock names its port, not a number).
 */
export class SimulatedUNIXFiles {
  /** The host whose files these are. */
  readonly host: SimulatedHost;
  readonly #entries = new Map<string, Entry>();
  readonly #abstract = new Map<string, SimulatedUNIXListener>();

  /** @internal Built by the host. */
  constructor(host: SimulatedHost) {
    this.host = host;
  }

  /** The file at `path`: whether it is a socket and its mode, or null when there is none. */
  stat(path: string): { readonly socket: boolean; readonly mode: number } | null {
    const entry = this.#entries.get(path);
    if (entry === undefined) return null;
    if (entry.kind === 'lock') return { socket: false, mode: 0o777 };
    return { socket: entry.kind === 'socket', mode: entry.mode };
  }

  /** Every path with a file, sorted (abstract names have none). */
  paths(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Leaves at `path` a socket file nothing listens on, as a server that crashed does. */
  makeStaleSocket(path: string, mode = DEFAULT_SOCKET_MODE): void {
    this.#entries.set(path, { kind: 'socket', mode, listener: null });
  }

  /** Leaves a `<path>.lock` whose process is gone, as a `wantPID` server that crashed does. */
  makeStaleLock(path: string): void {
    this.#entries.set(lockPathFor(path), { kind: 'lock', holder: null });
  }

  /** Puts a plain file at `path` (which listenUNIX must leave alone). */
  writeFile(path: string, mode = 0o644): void {
    this.#entries.set(path, { kind: 'file', mode });
  }

  /** Removes whatever is at `path` (`unlink`); false if there was nothing. */
  remove(path: string): boolean {
    return this.#entries.delete(path);
  }

  /**
   * Renames `from` to `to`, replacing what was there (`rename`): what
   * listens on a moved socket is reached at its new name.
   * @throws Error with code ENOENT if nothing is at `from`.
   */
  rename(from: string, to: string): void {
    const entry = this.#entries.get(from);
    if (entry === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file, rename '${from}'`), { code: 'ENOENT' });
    }
    this.#entries.delete(from);
    this.#entries.set(to, entry);
  }

  // ------------------------------------------------------------ for the simulated reactor

  /** @internal The listener a connect to `path` reaches, `'stale'`, or `'absent'`. */
  _lookup(path: string): SimulatedUNIXListener | 'stale' | 'absent' {
    if (path.startsWith('\0')) {
      const listener = this.#abstract.get(path);
      return listener?.listening === true ? listener : 'absent';
    }
    const entry = this.#entries.get(path);
    if (entry?.kind !== 'socket') return 'absent';
    return entry.listener?.listening === true ? entry.listener : 'stale';
  }

  /** @internal Whether `<path>.lock` is held by a port that still listens (checkPID). */
  _lockHeld(path: string): boolean {
    const entry = this.#entries.get(lockPathFor(path));
    return entry?.kind === 'lock' && entry.holder?.listening === true;
  }

  /**
   * Binds `listener` at `path` as a real port does: takes the lock
   * (`wantPID`; a lock whose holder is gone is taken over), replaces a stale
   * socket file, never a live one or a plain file. The socket appears with `mode` set.
   * @internal
   */
  _bind(
    path: string,
    listener: SimulatedUNIXListener,
    mode: number,
    wantPID: boolean,
  ): BindRefusal {
    if (path.startsWith('\0')) {
      if (this.#abstract.get(path)?.listening === true) {
        return { code: 'EADDRINUSE', why: `the abstract name @${path.slice(1)} is in use` };
      }
      this.#abstract.set(path, listener);
      return null;
    }
    const lockPath = lockPathFor(path);
    if (wantPID) {
      const lock = this.#entries.get(lockPath);
      if (lock?.kind === 'lock' && lock.holder?.listening === true) {
        return { code: 'EADDRINUSE', why: `${lockPath} is held by a live process` };
      }
    }
    const entry = this.#entries.get(path);
    if (entry?.kind === 'file' || entry?.kind === 'lock') {
      return { code: 'EADDRINUSE', why: `${path} exists and is not a socket; it was left alone` };
    }
    if (entry?.kind === 'socket' && entry.listener?.listening === true) {
      return { code: 'EADDRINUSE', why: `a server is listening on ${path}; it was left alone` };
    }
    if (wantPID) this.#entries.set(lockPath, { kind: 'lock', holder: listener });
    this.#entries.set(path, { kind: 'socket', mode, listener });
    return null;
  }

  /** @internal Removes the socket file and the lock at `path`, each only while it is `listener`'s. */
  _unbind(path: string, listener: SimulatedUNIXListener): void {
    if (path.startsWith('\0')) {
      if (this.#abstract.get(path) === listener) this.#abstract.delete(path);
      return;
    }
    const entry = this.#entries.get(path);
    if (entry?.kind === 'socket' && entry.listener === listener) this.#entries.delete(path);
    const lock = this.#entries.get(lockPathFor(path));
    if (lock?.kind === 'lock' && lock.holder === listener) this.#entries.delete(lockPathFor(path));
  }
}

/** The lock file guarding the socket file `path` (as on a real file system). */
function lockPathFor(path: string): string {
  return `${path}.lock`;
}
