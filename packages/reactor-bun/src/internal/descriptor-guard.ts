/**
 * Running out of file descriptors on Bun, handled from outside Bun's
 * listener, which cannot handle it itself.
 *
 * When the process has no descriptor left, `accept()` fails with EMFILE
 * (ENFILE: the whole system is out). Bun's listening socket is
 * level-triggered and Bun neither reports that failure to JavaScript nor
 * backs off: the event loop wakes, fails `accept()`, and wakes again, at
 * 100% CPU, while the connections queued in the backlog get neither service
 * nor a refusal. (libuv, and so NodeReactor, keeps a spare descriptor to
 * accept such a connection with and close it at once; nginx disables
 * accepting for a while.) JavaScript has no hook into Bun's `accept()`, but
 * it can keep `accept()` from failing, and it can close the listening socket:
 *
 * - {@link spareDescriptors} opens the null device to see whether a
 *   descriptor is free. A port calls it for every connection it is given:
 *   when the new connection took the last free descriptor, the port closes
 *   it at once rather than serve it. Bun's next `accept()` in the same loop
 *   then gets that descriptor back and the port closes that connection too,
 *   so the backlog drains with resets and `accept()` never fails because of
 *   the port's own connections: libuv's trick, with the last free
 *   descriptor as the spare.
 * - When something else took the last descriptor (files, outgoing
 *   connections), `accept()` fails before the port hears of anything.
 *   {@link watchDescriptors} checks every {@link WATCH_INTERVAL_MS} whether
 *   a descriptor is free; when none is, the port stops listening, which ends
 *   the spin and resets the backlog, and it listens again on a later check
 *   that finds two free (one for the listening socket, one to accept with).
 *
 * Tests: test/descriptor-exhaustion.bun.test.ts, and the conformance suite's
 * "descriptor exhaustion" section (test/conformance.bun.test.ts)
 * @module
 */
import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import { errorCode, Logger } from '@torsion/core';

const log = new Logger('torsion.bun');

/**
 * How often the watch looks for a free descriptor, in milliseconds. It
 * bounds both how long Bun can spin on a listener before the port stops
 * listening and how long a queued client waits for its reset; each check
 * costs one open and one close.
 */
export const WATCH_INTERVAL_MS = 250;

/** Set once opening the null device failed for another reason than a lack of descriptors. */
let cannotTell = false;

/**
 * Whether `count` more file descriptors could be opened right now. Each is
 * opened and closed again before this returns.
 *
 * @returns `false` only when opening failed with EMFILE or ENFILE; `true`
 *   when the descriptors were there, and also when this process cannot
 *   tell (no null device to open: the guard then stays out of the way).
 */
export function spareDescriptors(count = 1): boolean {
  if (cannotTell) return true;
  const opened: number[] = [];
  try {
    for (let i = 0; i < count; i++) opened.push(openSync(devNull, 'r'));
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EMFILE' || code === 'ENFILE') return false;
    cannotTell = true;
    log.debug('Cannot check for spare file descriptors; running out of them will not be noticed', {
      device: devNull,
      code,
    });
    return true;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

/** A port the watch tells, on every check, whether a descriptor is free. */
export interface DescriptorWatcher {
  descriptorsChecked(spare: boolean): void;
  /** Names the watcher in the log. */
  toString(): string;
}

const watchers = new Set<DescriptorWatcher>();
let timer: ReturnType<typeof setInterval> | null = null;

/**
 * Adds `watcher` to the checks made every {@link WATCH_INTERVAL_MS}. One
 * timer serves every port of the process (descriptors are the process's),
 * and it is unreferenced: the checks never keep a process alive. They are
 * Bun timers rather than the reactor's `callLater`, so they never show in
 * `getDelayedCalls()`.
 */
export function watchDescriptors(watcher: DescriptorWatcher): void {
  watchers.add(watcher);
  if (timer !== null) return;
  timer = setInterval(checkDescriptors, WATCH_INTERVAL_MS);
  timer.unref();
}

/** Removes `watcher`; the timer stops with the last one. */
export function unwatchDescriptors(watcher: DescriptorWatcher): void {
  watchers.delete(watcher);
  if (watchers.size > 0 || timer === null) return;
  clearInterval(timer);
  timer = null;
}

function checkDescriptors(): void {
  if (cannotTell) return;
  const spare = spareDescriptors(1);
  for (const watcher of [...watchers]) {
    try {
      watcher.descriptorsChecked(spare);
    } catch (err) {
      log.failure('Unhandled error while checking for spare file descriptors', err, {
        watcher: watcher.toString(),
      });
    }
  }
}
