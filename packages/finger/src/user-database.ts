/**
 * The user database a finger server answers from, and the in-memory one.
 *
 * Tests: test/user-database.test.ts
 * @module
 */
import { type Deferred, succeed } from '@torsion/core';

/**
 * Where a {@link FingerFactory} looks users up. Implement it to answer from
 * anywhere (a directory, a database, `/etc/passwd`); the server never blocks
 * on it, and a lookup that throws or fails is logged and answered with a
 * generic error line.
 */
export interface UserDatabase {
  /**
   * The info text of `name`, or `null` if there is no such user.
   * @param verbose - true for a `/W` query; a database may add detail.
   */
  getUser(name: string, verbose: boolean): Deferred<string | null> | PromiseLike<string | null>;
  /** Every user name, for the empty query when listing is allowed. */
  listUsers(): Deferred<readonly string[]> | PromiseLike<readonly string[]>;
}

/**
 * A user database held in memory: name → info text. Names match exactly
 * (case-sensitive, as Unix logins).
 *
 * @example
 * ```ts
 * const users = new MemoryUserDatabase({ moshez: 'Happy and well' });
 * users.set('alice', 'On holiday');
 * ```
 */
export class MemoryUserDatabase implements UserDatabase {
  readonly #users: Map<string, string>;

  /** @param users - the initial users, as an object or a Map. */
  constructor(users: Readonly<Record<string, string>> | ReadonlyMap<string, string> = {}) {
    const entries: Iterable<[string, string]> =
      users instanceof Map ? (users as ReadonlyMap<string, string>) : Object.entries(users);
    this.#users = new Map(entries);
  }

  /** Adds or replaces a user. */
  set(name: string, info: string): void {
    this.#users.set(name, info);
  }

  /** Removes a user. @returns true if there was one. */
  delete(name: string): boolean {
    return this.#users.delete(name);
  }

  /** The info text of `name`, or `null`; already fired. */
  getUser(name: string): Deferred<string | null> {
    return succeed(this.#users.get(name) ?? null);
  }

  /** The user names, in insertion order; already fired. */
  listUsers(): Deferred<readonly string[]> {
    return succeed([...this.#users.keys()]);
  }
}

/** True if `value` looks like a {@link UserDatabase} rather than a plain name → info object. */
export function isUserDatabase(value: unknown): value is UserDatabase {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<UserDatabase>).getUser === 'function' &&
    typeof (value as Partial<UserDatabase>).listUsers === 'function'
  );
}
