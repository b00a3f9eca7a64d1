/**
 * The UNIX section's view of the real file system (the default
 * {@link UNIXFileHooks}): a fresh directory per reactor under the OS's temp
 * directory, a stale socket made through the reactor itself (listen, hard-link
 * the file, stop: the port removes only its own name, the link stays with
 * nothing listening), and `lstat` for the file's kind and mode.
 * @module
 */
import { linkSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Factory, Protocol } from '@torsion/core';
import type { IReactor, IReactorUNIX } from '@torsion/core';
import type { UNIXFileHooks } from '../options.js';

const directories = new WeakMap<IReactor, string>();

/** The real file system's hooks. */
export const REAL_UNIX_FILES: UNIXFileHooks = {
  socketPath(reactor: IReactor, name: string): string {
    let dir = directories.get(reactor);
    if (dir === undefined) {
      dir = mkdtempSync(join(tmpdir(), 'torsion-conformance-'));
      directories.set(reactor, dir);
    }
    return join(dir, name);
  },

  async makeStaleSocket(reactor: IReactor, path: string): Promise<void> {
    const unix = reactor as IReactor & IReactorUNIX;
    const bound = `${path}.bound`;
    const port = await unix.listenUNIX(bound, Factory.forProtocol(Protocol)).whenListening();
    linkSync(bound, path);
    await port.stopListening();
  },

  statFile(_reactor: IReactor, path: string): { socket: boolean; mode: number } | null {
    try {
      const stats = lstatSync(path);
      return { socket: stats.isSocket(), mode: stats.mode & 0o7777 };
    } catch {
      return null;
    }
  },

  cleanup(reactor: IReactor): void {
    const dir = directories.get(reactor);
    if (dir === undefined) return;
    directories.delete(reactor);
    rmSync(dir, { recursive: true, force: true });
  },
};
