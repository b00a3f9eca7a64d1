/**
 * A user database read from a JSON file `{ "user": "info text" }`, re-read
 * whenever the file changes.
 *
 * Tests: test/json-file-user-database.test.ts
 * @module
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  type BoundedFile,
  Deferred,
  Logger,
  readBoundedFile,
  readBoundedFileSync,
} from '@torsion/core';
import type { UserDatabase } from './user-database.js';

const log = new Logger('torsion.finger.users');

/**
 * The largest users file read by default: 16 MiB. At a few hundred bytes per
 * user that is tens of thousands of users, far past what a finger server
 * serves from one JSON file; the whole file is parsed on every change and held
 * in memory, so more users belong in a real database behind a
 * {@link UserDatabase}. The cap keeps a log file or a disk image named by
 * mistake (or a file that keeps growing) from taking the server's memory.
 */
export const DEFAULT_MAX_USERS_FILE_BYTES = 16 * 1024 * 1024;

/** Options for {@link JsonFileUserDatabase}. */
export interface JsonFileUserDatabaseOptions {
  /**
   * The largest file accepted, in bytes, at start and on every reload.
   * Default {@link DEFAULT_MAX_USERS_FILE_BYTES} (16 MiB).
   */
  maxBytes?: number;
}

/** What identifies one version of the file: a rewrite or a rename changes one of these. */
interface Version {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
}

function versionOf(stats: Stats): Version {
  return { mtimeMs: stats.mtimeMs, size: stats.size, ino: stats.ino };
}

function sameVersion(a: Version, b: Version): boolean {
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

/**
 * Parses the file's text into name → info.
 * @throws Error saying what is wrong: not JSON, not an object, or a value that is not a string.
 */
function parseUsers(text: string): Map<string, string> {
  const data: unknown = JSON.parse(text);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error('expected a JSON object of user name to info text');
  }
  const users = new Map<string, string>();
  for (const [name, info] of Object.entries(data)) {
    if (typeof info !== 'string') {
      throw new Error(`the info of user ${JSON.stringify(name)} is not a string`);
    }
    users.set(name, info);
  }
  return users;
}

/**
 * Users from a JSON file such as `{ "alice": "Working on Torsion.\nOffice 12" }`.
 *
 * @remarks
 * The file is read once, synchronously, by the constructor, so a missing or
 * broken file is reported at start-up. After that, every query checks the
 * file's modification time, size and inode (one `stat`, asynchronous) and
 * re-reads it when any changed, so edits, and editors that replace the file,
 * take effect on the next query without a restart. If a new version cannot
 * be read or is not valid, the last good users stay in use and the error is
 * logged once per version.
 *
 * Only a regular file of at most `maxBytes` is read (see `readBoundedFile` in
 * `@torsion/core`): a directory, a device such as `/dev/zero`, a FIFO or a
 * socket is refused without reading it, at start and on reload alike.
 */
export class JsonFileUserDatabase implements UserDatabase {
  /** The file's path, as given. */
  readonly path: string;
  /** The largest file accepted, in bytes. */
  readonly maxBytes: number;
  #users: Map<string, string>;
  #version: Version;
  /** The version that last failed to load, so its error is logged only once. */
  #badVersion: Version | null = null;
  /** The reload in progress, shared by concurrent queries. */
  #refreshing: Promise<void> | null = null;

  /**
   * Reads `path` now.
   * @throws Error naming the file if it cannot be read, is not a regular file,
   *   is larger than `maxBytes`, or is not a JSON object of strings; its
   *   `cause` is the underlying error (a `FileRefusedError` from
   *   `@torsion/core` for the two refusals).
   * @throws RangeError for a `maxBytes` that is not a non-negative integer.
   */
  constructor(path: string, options: JsonFileUserDatabaseOptions = {}) {
    this.path = path;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_USERS_FILE_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 0) {
      throw new RangeError(
        `maxBytes must be a non-negative integer, got ${String(options.maxBytes)}`,
      );
    }
    let stats: Stats;
    let text: string;
    try {
      // The version comes from the descriptor that was read, not from a
      // separate stat of the path, which could describe another file.
      const file = readBoundedFileSync(path, { maxBytes: this.maxBytes });
      stats = file.stats;
      text = file.data.toString('utf8');
    } catch (err) {
      throw new Error(`Cannot read the finger users file ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      this.#users = parseUsers(text);
    } catch (err) {
      throw new Error(`The finger users file ${path} is not valid: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#version = versionOf(stats);
  }

  /** The info text of `name` from the current file, or `null`. */
  getUser(name: string): Deferred<string | null> {
    return Deferred.fromPromise(this.#refresh().then(() => this.#users.get(name) ?? null));
  }

  /** The user names in the current file, in file order. */
  listUsers(): Deferred<readonly string[]> {
    return Deferred.fromPromise(this.#refresh().then(() => [...this.#users.keys()]));
  }

  /** Re-reads the file if it changed; never rejects (failures are logged). */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#reload().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #reload(): Promise<void> {
    let version: Version;
    try {
      version = versionOf(await stat(this.path));
    } catch (err) {
      this.#reportOnce({ mtimeMs: -1, size: -1, ino: -1 }, err, 'cannot be read');
      return;
    }
    if (sameVersion(version, this.#version)) return;
    let file: BoundedFile;
    try {
      file = await readBoundedFile(this.path, { maxBytes: this.maxBytes });
    } catch (err) {
      // A FIFO or an oversized file swapped in is refused here, as at start.
      this.#reportOnce(version, err, 'cannot be read');
      return;
    }
    try {
      const users = parseUsers(file.data.toString('utf8'));
      this.#users = users;
      this.#version = versionOf(file.stats);
      this.#badVersion = null;
      log.info('Reloaded the finger users file', { path: this.path, users: users.size });
    } catch (err) {
      this.#reportOnce(version, err, 'is not valid');
    }
  }

  #reportOnce(version: Version, err: unknown, problem: string): void {
    if (this.#badVersion !== null && sameVersion(version, this.#badVersion)) return;
    this.#badVersion = version;
    log.failure(`The finger users file ${problem}; keeping the last good users`, err, {
      path: this.path,
    });
  }
}
