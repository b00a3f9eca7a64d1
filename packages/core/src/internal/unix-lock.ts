/**
 * The `<path>.lock` file of a UNIX socket (`wantPID` / `checkPID`), in the
 * format Twisted's `FilesystemLock` uses, so a Torsion server and a Twisted
 * one guard the same socket path against each other: the lock is a symbolic
 * link whose target is the holder's PID as decimal text. Creating a symlink
 * is atomic and fails if the name exists, which makes it a mutex between
 * processes; a lock whose process is gone (`kill(pid, 0)` says ESRCH) is
 * stale and is taken over.
 *
 * A PID can be reused after its process exits, so a stale lock can look live;
 * that errs on the side of never stealing a socket, and the socket-file probe
 * (internal/unix-socket-file.ts) still decides whether anything listens.
 *
 * Tests: test/unix.integration.test.ts
 * @module
 */
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { errorCode } from '../error-code.js';

/** The lock file guarding the socket file `path`. */
export function lockPathFor(path: string): string {
  return `${path}.lock`;
}

/** Whether a process with this PID exists (EPERM: it does, owned by another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/** The PID a lock names, or null when there is no lock (or it names no number). */
export function lockOwner(lockPath: string): number | null {
  let target: string;
  try {
    target = readlinkSync(lockPath);
  } catch {
    return null;
  }
  const pid = Number(target);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Whether the lock is held by a live process (Twisted's `isLocked`). */
export function isLocked(lockPath: string): boolean {
  const pid = lockOwner(lockPath);
  return pid !== null && processExists(pid);
}

/** The outcome of {@link acquireLock}. */
export type LockOutcome =
  /** Taken; there was no lock before. */
  | { readonly acquired: true; readonly clean: true }
  /** Taken over from a process that is gone: whatever it left (a socket file) is stale. */
  | { readonly acquired: true; readonly clean: false }
  /** Held by the live process `pid`. */
  | { readonly acquired: false; readonly pid: number };

/**
 * Takes the lock for this process.
 * @throws Error for a filesystem error other than "the lock exists" (EACCES…).
 */
export function acquireLock(lockPath: string): LockOutcome {
  let clean = true;
  // Twice at most: once as is, once after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      symlinkSync(String(process.pid), lockPath);
      return clean ? { acquired: true, clean: true } : { acquired: true, clean: false };
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
    const pid = lockOwner(lockPath);
    if (pid === process.pid) return { acquired: false, pid };
    if (pid !== null && processExists(pid)) return { acquired: false, pid };
    clean = false;
    try {
      unlinkSync(lockPath);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }
  const pid = lockOwner(lockPath);
  return { acquired: false, pid: pid ?? 0 };
}

/** Removes the lock if it still names this process (another may have taken it over). */
export function releaseLock(lockPath: string): void {
  if (lockOwner(lockPath) !== process.pid) return;
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}
