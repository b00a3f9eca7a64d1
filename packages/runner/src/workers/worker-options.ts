/**
 * The runner's `--workers`, `--restart-limit` and `--restart-window` options:
 * their parseArgs definitions, reading and checking their values, the
 * endpoints that several workers cannot share, and the command line a worker
 * runs (the primary's, minus these options).
 *
 * Tests: test/workers-options.test.ts
 * @module
 */
import { formatServerDescription, type EndpointDescription } from '@torsion/core';
import { availableParallelism } from 'node:os';
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_RESTART_POLICY, type RestartPolicyOptions } from './restart-policy.js';

/** The parseArgs definitions the runner adds to its own options. */
export const WORKER_OPTIONS = {
  workers: { type: 'string' },
  'restart-limit': { type: 'string' },
  'restart-window': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The flags among {@link WORKER_OPTIONS} (all take a value). */
export const WORKER_FLAGS: readonly string[] = Object.keys(WORKER_OPTIONS).map(
  (name) => `--${name}`,
);

/** A value given to one of the worker options that cannot be used; the message names the option. */
export class WorkerOptionError extends Error {}

/** What `--workers` and its companions asked for. */
export interface WorkerSettings {
  /** How many workers; `undefined`: no `--workers`, serve in this process. */
  count?: number;
  restart: { -readonly [K in 'limit' | 'windowSeconds']: RestartPolicyOptions[K] };
}

/** Settings before any option is read: one process, the default restart limits. */
export function defaultWorkerSettings(): WorkerSettings {
  return {
    restart: {
      limit: DEFAULT_RESTART_POLICY.limit,
      windowSeconds: DEFAULT_RESTART_POLICY.windowSeconds,
    },
  };
}

function positiveInteger(option: string, text: string): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new WorkerOptionError(`${option} must be a whole number of at least 1, got '${text}'`);
  }
  return value;
}

/**
 * Reads the worker options out of one group's parsed values into `settings`.
 * `--workers auto` is `os.availableParallelism()`.
 * @throws WorkerOptionError naming the option for a bad value.
 */
export function applyWorkerOptions(
  values: Record<string, unknown>,
  settings: WorkerSettings,
): void {
  const workers = values.workers;
  if (typeof workers === 'string') {
    if (workers === 'auto') settings.count = availableParallelism();
    else if (/^[0-9]+$/.test(workers)) settings.count = positiveInteger('--workers', workers);
    else throw new WorkerOptionError(`--workers must be a number or 'auto', got '${workers}'`);
  }
  const limit = values['restart-limit'];
  if (typeof limit === 'string') {
    settings.restart.limit = positiveInteger('--restart-limit', limit);
  }
  const window = values['restart-window'];
  if (typeof window === 'string') {
    settings.restart.windowSeconds = positiveInteger('--restart-window', window);
  }
}

/**
 * The command line a worker runs: `argv` without the worker options (in
 * either form, `--workers 2` or `--workers=2`, in any group), so that the
 * worker serves in its own process instead of forking again.
 */
export function workerArgv(argv: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (WORKER_FLAGS.includes(arg)) {
      i++; // and its value
    } else if (!WORKER_FLAGS.some((flag) => arg.startsWith(`${flag}=`))) {
      result.push(arg);
    }
  }
  return result;
}

/** The port an endpoint description binds, looking inside wrapping types (`haproxy:tcp:…`). */
function boundPort(description: unknown, depth = 0): number | undefined {
  if (typeof description !== 'object' || description === null || depth > 4) return undefined;
  const record = description as Record<string, unknown>;
  if (typeof record.port === 'number') return record.port;
  for (const value of Object.values(record)) {
    const port = boundPort(value, depth + 1);
    if (port !== undefined) return port;
  }
  return undefined;
}

/** The type of an endpoint description, looking inside wrapping types for one of `types`. */
function hasType(description: unknown, types: readonly string[], depth = 0): boolean {
  if (typeof description !== 'object' || description === null || depth > 4) return false;
  const record = description as Record<string, unknown>;
  if (typeof record.type === 'string' && types.includes(record.type)) return true;
  return Object.values(record).some((value) => hasType(value, types, depth + 1));
}

/**
 * Why the workers cannot share `description`, or `undefined` when they can.
 * Port 0 is refused: each worker, and each replacement, would be told a port
 * of its own choosing, and clients need one port that outlives every worker.
 * `systemd:` is refused: systemd hands its sockets to the primary's process
 * id, which `LISTEN_PID` names, so no worker may adopt them. `unix:` is
 * refused: a worker binding a path first checks that no server answers on
 * it (so as never to take over a live socket), and every worker after the
 * first finds the first one there.
 */
export function unshareableReason(description: EndpointDescription): string | undefined {
  const where = formatServerDescription(description);
  if (boundPort(description) === 0) {
    return `--workers cannot serve ${where}: port 0 would differ between workers and restarts; give a port number`;
  }
  if (hasType(description, ['systemd'])) {
    return `--workers cannot serve ${where}: the sockets systemd passes belong to one process; run one torsion per socket unit, or listen on tcp: with --workers`;
  }
  if (hasType(description, ['unix'])) {
    return `--workers cannot serve ${where}: a UNIX socket is bound by one worker, and the next finds the path in use; use tcp: with --workers, or one torsion per socket`;
  }
  return undefined;
}

/** The lines `torsion --help` gives the worker options. */
export const WORKERS_HELP: readonly string[] = [
  'All cores (global; docs/deploying.md):',
  '  --workers N|auto            serve in N worker processes sharing the ports (auto: one per core);',
  '                              SIGHUP then restarts them one at a time; port 0, unix: and',
  '                              systemd: endpoints cannot be shared',
  `  --restart-limit N           this many crashes within --restart-window stop the restarts (default ${String(DEFAULT_RESTART_POLICY.limit)})`,
  `  --restart-window SECONDS    (default ${String(DEFAULT_RESTART_POLICY.windowSeconds)})`,
];
