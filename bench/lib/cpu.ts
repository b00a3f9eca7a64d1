/**
 * CPU pinning and per-process CPU accounting for the benchmarks. Pinning the
 * server and the client to different cores keeps them from competing for one
 * core, which would otherwise make the numbers depend on the scheduler.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** The core the servers run on. */
export const SERVER_CPU = 0;
/** The core the load generator runs on. */
export const CLIENT_CPU = 1;

/**
 * Whether pinning is possible here: taskset (util-linux) present and at
 * least two cores. Returns the reason when it is not.
 */
export function pinningProblem(): string | null {
  if (availableParallelism() < 2) return 'fewer than 2 CPUs';
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return null;
  } catch {
    return 'taskset (util-linux) not found';
  }
}

/** `argv` prefixed with `taskset -c cpu`, or unchanged when `cpu` is null. */
export function pinned(argv: readonly string[], cpu: number | null): string[] {
  return cpu === null ? [...argv] : ['taskset', '-c', String(cpu), ...argv];
}

/**
 * User + system CPU seconds a process has used so far (Linux /proc), or NaN
 * when it cannot be read. /proc counts in USER_HZ ticks, 100 per second on
 * every Linux architecture Node supports.
 */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds the whole machine has spent busy so far, all cores together
 * (Linux /proc/stat: everything but idle and iowait), or NaN when unreadable.
 * Subtracting what the benchmark's own processes used shows how much other
 * work shared the machine during a measurement.
 */
export function systemBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (ticks[i] ?? 0), 0);
    return busy / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Waits until the machine is quiet: the whole machine used less than
 * `thresholdCores` cores over a half-second sample. Call it while the
 * benchmark's own processes are idle, so only other work counts.
 * @param maxSeconds - give up after this long and go ahead anyway.
 * @returns the load (cores) of the last sample, so a report can flag a pass
 *   that had to start on a busy machine.
 */
export async function waitForQuiet(maxSeconds: number, thresholdCores: number): Promise<number> {
  const deadline = performance.now() + maxSeconds * 1000;
  for (;;) {
    const busyBefore = systemBusySeconds();
    const wallBefore = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const load = (systemBusySeconds() - busyBefore) / ((performance.now() - wallBefore) / 1000);
    if (!(load >= thresholdCores) || performance.now() >= deadline) return load;
  }
}
