/**
 * Process spawn benchmark: children started and ended per second,
 * `reactor.spawnProcess('/bin/true')` on NodeReactor against plain
 * `child_process.spawn('/bin/true')`, in the same process, alternating the two,
 * medians of several passes. Both wait for the same thing: the exit and every
 * pipe closed (`processEnded`; Node's `'close'`), three pipes each, `--concurrency`
 * children in flight at a time.
 *
 *   npx tsx bench/process-spawn.ts [--passes N] [--count N] [--concurrency N]
 *
 * Output: readable lines, then as the LAST line one JSON object:
 *   {"bench":"processSpawn","results":[{"name":…,"torsion_per_s":…,"baseline_per_s":…,"ratio":…}]}
 * where ratio is the median over the passes of torsion / baseline in the same pass (target >= 0.95).
 *
 * Tests: none (a benchmark); what it measures is tested by
 * packages/core/test/process/node-process.integration.test.ts.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Failure } from '../packages/core/src/failure.js';
import { NodeReactor } from '../packages/core/src/node-reactor.js';
import { ProcessProtocol } from '../packages/core/src/process/process-protocol.js';

const { values } = parseArgs({
  options: {
    passes: { type: 'string', default: '5' },
    count: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
  },
});
const PASSES = Math.max(1, Number(values.passes));
const COUNT = Math.max(1, Number(values.count));
const CONCURRENCY = Math.max(1, Number(values.concurrency));
const EXECUTABLE = '/bin/true';

const reactor = new NodeReactor({ installSignalHandlers: false });

class Ended extends ProcessProtocol {
  constructor(readonly done: () => void) {
    super();
  }

  override processEnded(reason: Failure): void {
    void reason;
    this.done();
  }
}

/** Runs `start` COUNT times, CONCURRENCY at a time; returns children per second. */
async function rate(start: (done: () => void) => void): Promise<number> {
  const began = performance.now();
  let started = 0;
  await new Promise<void>((resolve) => {
    let ended = 0;
    const next = (): void => {
      if (started >= COUNT) return;
      started++;
      start(() => {
        ended++;
        if (ended === COUNT) resolve();
        else next();
      });
    };
    for (let i = 0; i < CONCURRENCY; i++) next();
  });
  return COUNT / ((performance.now() - began) / 1000);
}

const torsion = (): Promise<number> =>
  rate((done) => {
    reactor.spawnProcess(new Ended(done), EXECUTABLE);
  });

const baseline = (): Promise<number> =>
  rate((done) => {
    const child = spawn(EXECUTABLE, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('close', done);
  });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const torsionRates: number[] = [];
const baselineRates: number[] = [];
// Warm both paths once, unmeasured.
await torsion();
await baseline();
for (let pass = 0; pass < PASSES; pass++) {
  // Alternate which goes first, so neither always runs on a warmer machine.
  if (pass % 2 === 0) {
    torsionRates.push(await torsion());
    baselineRates.push(await baseline());
  } else {
    baselineRates.push(await baseline());
    torsionRates.push(await torsion());
  }
  console.log(
    `pass ${String(pass + 1)}: spawnProcess ${torsionRates.at(-1)?.toFixed(0) ?? ''}/s, child_process.spawn ${baselineRates.at(-1)?.toFixed(0) ?? ''}/s`,
  );
}
const t = median(torsionRates);
const b = median(baselineRates);
// The ratio is the median of each pass's own ratio: the two runs of a pass
// are back to back, so a load that comes and goes on a shared machine
// weighs on both, where a ratio of the two medians could pair a quiet run
// with a busy one.
const ratio = median(torsionRates.map((rate, i) => rate / (baselineRates[i] ?? rate)));
console.log(
  JSON.stringify({
    bench: 'processSpawn',
    results: [
      {
        name: `${EXECUTABLE}, ${String(COUNT)} children, ${String(CONCURRENCY)} at a time`,
        torsion_per_s: Math.round(t),
        baseline_per_s: Math.round(b),
        ratio,
      },
    ],
  }),
);
