// The soak driver shared by the one-minute soak (workers-soak.soak.ts,
// `npm run soak`) and its ten-second variant in the default run
// (workers-soak.integration.test.ts): churns connections through
// `torsion --workers 2 echo` on loopback, some of them aborted with a TCP
// RST at a random moment, and measures the descriptors and RSS of the
// primary and of every worker before and after.
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { errorCode } from '@torsion/core';
import { echoOnce, freePort, startTorsion } from './workers-support.js';

/** How a soak runs. */
export interface SoakOptions {
  /** Connections in all, spread evenly over `seconds`. */
  readonly connections: number;
  readonly seconds: number;
  /** Connections open at once, at most. */
  readonly concurrency: number;
  /** The share of connections aborted with an RST, 0 to 1. */
  readonly resetRatio: number;
  /** Connections made before the starting level is measured: the heap's working size is not a leak. */
  readonly warmUp: number;
}

/** Descriptors and resident memory of one process. */
export interface ProcessUsage {
  readonly pid: number;
  readonly fds: number;
  readonly rssKiB: number;
}

/** What a soak saw. */
export interface SoakReport {
  readonly echoes: number;
  readonly resets: number;
  /** Echoes whose bytes differ from what was sent. */
  readonly mismatches: number;
  /** Errors on connections that were not reset on purpose, by code. */
  readonly errors: Record<string, number>;
  readonly before: readonly ProcessUsage[];
  readonly after: readonly ProcessUsage[];
  readonly elapsedSeconds: number;
}

export function usage(pid: number): ProcessUsage {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return { pid, fds, rssKiB };
}

/** A connection aborted with an RST: before sending, after sending part, or while the echo arrives. */
function resetConnection(port: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const when = randomInt(3);
    const socket = connect(port, '127.0.0.1', () => {
      if (when === 0) {
        socket.resetAndDestroy();
        return;
      }
      socket.write(randomBytes(randomInt(1, 65_536)));
      if (when === 1) socket.resetAndDestroy();
    });
    socket.once('data', () => {
      if (!socket.destroyed) socket.resetAndDestroy();
    });
    socket.on('error', () => undefined); // the RST was ours
    socket.on('close', () => {
      resolve();
    });
    // An echo too short to have arrived: reset it anyway, soon.
    setTimeout(() => {
      if (!socket.destroyed) socket.resetAndDestroy();
    }, 50).unref();
  });
}

/** Descriptors a process may hold beyond its starting level after a soak (libuv opens some lazily). */
export const FD_TOLERANCE = 2;
/** Resident memory a process may hold beyond its starting level after a soak: heap growth that GC has not returned, not a leak per connection (10,000 connections leaking 1 KiB each would exceed it by half). */
export const RSS_TOLERANCE_KIB = 24 * 1024;

/** The processes whose descriptors or memory did not come back to their starting level, described; empty when all did. */
export function leaks(report: SoakReport): string[] {
  return report.after.flatMap((after, i) => {
    const before = report.before[i];
    if (before === undefined) return [];
    const problems: string[] = [];
    if (after.fds > before.fds + FD_TOLERANCE) {
      problems.push(`pid ${after.pid}: ${before.fds} descriptors before, ${after.fds} after`);
    }
    if (after.rssKiB > before.rssKiB + RSS_TOLERANCE_KIB) {
      problems.push(`pid ${after.pid}: RSS ${before.rssKiB} KiB before, ${after.rssKiB} KiB after`);
    }
    return problems;
  });
}

/** Runs one soak; the caller asserts on the report. */
export async function soak(options: SoakOptions): Promise<SoakReport> {
  const port = await freePort();
  const torsion = startTorsion([
    '--workers',
    '2',
    'echo',
    '--listen',
    `tcp:${port}:interface=127.0.0.1`,
  ]);
  try {
    await torsion.waitFor(/2 workers serving/, 30_000);
    const pids = (): number[] => {
      const workers = [...torsion.stderr().matchAll(/worker \d+ \(pid (\d+)\) listening/g)].map(
        (m) => Number(m[1]),
      );
      return [torsion.pid, ...workers];
    };
    let echoes = 0;
    let resets = 0;
    let mismatches = 0;
    const errors: Record<string, number> = {};
    const one = async (reset: boolean): Promise<void> => {
      if (reset) {
        await resetConnection(port);
        resets++;
        return;
      }
      const payload = randomBytes(randomInt(1, 16_384));
      try {
        const echoed = await echoOnce(port, payload, 10_000);
        echoes++;
        if (!echoed.equals(payload)) mismatches++;
      } catch (err) {
        const code = errorCode(err) ?? String(err);
        errors[code] = (errors[code] ?? 0) + 1;
      }
    };
    for (let i = 0; i < options.warmUp; i += options.concurrency) {
      await Promise.all(
        Array.from({ length: Math.min(options.concurrency, options.warmUp - i) }, () =>
          one(Math.random() < options.resetRatio),
        ),
      );
    }
    const before = pids().map(usage);
    echoes = 0;
    resets = 0;
    const began = Date.now();
    const interval = (options.seconds * 1000) / options.connections;
    let next = 0;
    const client = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        if (index >= options.connections) return;
        // Paced: connection `index` starts no earlier than its slot.
        const wait = began + index * interval - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await one(Math.random() < options.resetRatio);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, client));
    const elapsedSeconds = (Date.now() - began) / 1000;
    // Let the workers see the last closes, then measure, a few times if need be.
    let after = pids().map(usage);
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = pids().map(usage);
      if (after.every((u, i) => u.fds <= (before[i]?.fds ?? 0))) break;
    }
    torsion.child.kill('SIGTERM');
    const exit = await torsion.exited;
    if (exit.code !== 0) errors[`primary exit ${String(exit.code)}`] = 1;
    return { echoes, resets, mismatches, errors, before, after, elapsedSeconds };
  } finally {
    torsion.kill();
  }
}
