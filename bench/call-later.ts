/**
 * callLater benchmark: Torsion's timer queue against plain setTimeout/clearTimeout,
 * measured in the same process, alternating the two, medians of several passes.
 *
 *   npx tsx bench/call-later.ts [--passes N] [--count N]
 *
 * Garbage is collected before every pass (the script enables `gc()` itself),
 * so one side's garbage is not billed to the other.
 *
 * Workloads (count defaults to 1,000,000):
 *   1. schedule+fire: schedule `count` calls with random whole-millisecond
 *      delays from 1 to 10 ms (setTimeout's best case: one timer list per
 *      distinct duration) and wait until all have run (time from the first
 *      schedule to the last call).
 *   2. schedule+cancel: schedule `count` calls with the same delays, then cancel
 *      them all in scheduling order (synchronous; nothing fires).
 *
 * Output: readable lines, then as the LAST line one JSON object:
 *   {"bench":"callLater","results":[{"name":…,"torsion_ms":…,"baseline_ms":…,"ratio":…},…]}
 * where ratio = baseline_ms / torsion_ms (>= 1: Torsion at least as fast).
 *
 * Tests: none (a benchmark); the code it measures is tested by
 * packages/core/test/timer-queue.test.ts and node-reactor.test.ts.
 */
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { IDelayedCall, IReactorTime } from '../packages/core/src/interfaces.js';
import { NodeReactor } from '../packages/core/src/node-reactor.js';

const { values } = parseArgs({
  options: {
    passes: { type: 'string', default: '5' },
    count: { type: 'string', default: '1000000' },
  },
});
const PASSES = Math.max(1, Number(values.passes));
const COUNT = Math.max(1, Number(values.count));
const MAX_DELAY_MS = 10;

function at<T>(array: ArrayLike<T>, index: number): T {
  const value = array[index];
  if (value === undefined) throw new RangeError(`index ${index} out of range`);
  return value;
}

interface Timers {
  readonly name: string;
  /** Schedules `fn` after `ms` milliseconds; returns a handle for `cancel`. */
  schedule(ms: number, fn: () => void): unknown;
  cancel(handle: unknown): void;
}

function torsionTimers(reactor: IReactorTime): Timers {
  return {
    name: 'torsion',
    schedule: (ms, fn) => reactor.callLater(ms / 1000, fn),
    cancel: (handle) => {
      (handle as IDelayedCall).cancel();
    },
  };
}

const nodeTimers: Timers = {
  name: 'setTimeout',
  schedule: (ms, fn) => setTimeout(fn, ms),
  cancel: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

function scheduleAndFire(timers: Timers, delaysMs: Float64Array): Promise<number> {
  return new Promise((resolve) => {
    let remaining = delaysMs.length;
    const start = performance.now();
    const fire = (): void => {
      if (--remaining === 0) resolve(performance.now() - start);
    };
    for (const ms of delaysMs) timers.schedule(ms, fire);
  });
}

function scheduleAndCancel(timers: Timers, delaysMs: Float64Array): number {
  const handles: unknown[] = new Array<unknown>(delaysMs.length);
  const never = (): void => {
    throw new Error('a cancelled call ran');
  };
  const start = performance.now();
  for (let i = 0; i < delaysMs.length; i++) handles[i] = timers.schedule(at(delaysMs, i), never);
  for (const handle of handles) timers.cancel(handle);
  return performance.now() - start;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? at(sorted, mid) : (at(sorted, mid - 1) + at(sorted, mid)) / 2;
}

// `gc()` without needing `node --expose-gc` (tsx starts node for us).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Lets pending I/O and timers of the previous pass settle. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

interface Result {
  name: string;
  torsion_ms: number;
  baseline_ms: number;
  ratio: number;
}

async function measure(
  name: string,
  run: (timers: Timers) => number | Promise<number>,
  torsion: Timers,
): Promise<Result> {
  const samples = new Map<Timers, number[]>([
    [torsion, []],
    [nodeTimers, []],
  ]);
  // Pass 0 warms both up (JIT, heap growth) and is discarded; the order
  // alternates so neither side always runs on a freshly collected heap.
  for (let pass = 0; pass <= PASSES; pass++) {
    const order = pass % 2 === 0 ? [torsion, nodeTimers] : [nodeTimers, torsion];
    for (const timers of order) {
      collectGarbage();
      await settle();
      const ms = await run(timers);
      if (pass > 0) samples.get(timers)?.push(ms);
    }
  }
  const torsionMs = median(samples.get(torsion) ?? []);
  const baselineMs = median(samples.get(nodeTimers) ?? []);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    name,
    torsion_ms: round(torsionMs),
    baseline_ms: round(baselineMs),
    ratio: round(baselineMs / torsionMs),
  };
}

async function main(): Promise<void> {
  const reactor = new NodeReactor();
  const torsion = torsionTimers(reactor);
  const delaysMs = new Float64Array(COUNT);
  for (let i = 0; i < COUNT; i++) delaysMs[i] = 1 + Math.floor(Math.random() * MAX_DELAY_MS);
  const label = COUNT === 1_000_000 ? '1e6' : String(COUNT);

  console.log(
    `callLater benchmark: ${COUNT} calls, delays of 1-${MAX_DELAY_MS} ms, ` +
      `median of ${PASSES} passes, Node ${process.version}`,
  );
  const results: Result[] = [];
  results.push(
    await measure(`schedule+fire ${label}`, (t) => scheduleAndFire(t, delaysMs), torsion),
  );
  results.push(
    await measure(`schedule+cancel ${label}`, (t) => scheduleAndCancel(t, delaysMs), torsion),
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(22)} torsion ${r.torsion_ms.toFixed(1).padStart(8)} ms   ` +
        `setTimeout ${r.baseline_ms.toFixed(1).padStart(8)} ms   ratio ${r.ratio.toFixed(2)}x`,
    );
  }
  console.log(JSON.stringify({ bench: 'callLater', results }));
}

await main();
