/**
 * Process pipe benchmark: bytes per second through a `cat` child and back,
 * `reactor.spawnProcess('cat')` on NodeReactor (a streaming producer on its
 * stdin, `outReceived` counting) against plain Node streams (a write loop on
 * `child.stdin` that waits for `'drain'`, `child.stdout` `'data'` counting), in
 * the same process, alternating the two, medians of several passes.
 *
 *   npx tsx bench/process-pipe.ts [--passes N] [--mebibytes N]
 *
 * Output: readable lines, then as the LAST line one JSON object:
 *   {"bench":"processPipe","results":[{"name":…,"torsion_mib_s":…,"baseline_mib_s":…,"ratio":…}]}
 * where ratio is the median over the passes of torsion / baseline in the same pass (target >= 0.95).
 *
 * Tests: none (a benchmark); what it measures is tested by
 * packages/core/test/process/cat-round-trip.integration.test.ts.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Failure } from '../packages/core/src/failure.js';
import type { IPushProducer } from '../packages/core/src/interfaces.js';
import { NodeReactor } from '../packages/core/src/node-reactor.js';
import { ProcessProtocol } from '../packages/core/src/process/process-protocol.js';

const { values } = parseArgs({
  options: {
    passes: { type: 'string', default: '5' },
    mebibytes: { type: 'string', default: '256' },
  },
});
const PASSES = Math.max(1, Number(values.passes));
const TOTAL = Math.max(1, Number(values.mebibytes)) * 1024 * 1024;
// Written over and over: both sides hand the same buffer to the pipe, so neither pays for allocation.
const CHUNK = Buffer.alloc(64 * 1024, 'torsion ');

const reactor = new NodeReactor({ installSignalHandlers: false });

class Feeder extends ProcessProtocol implements IPushProducer {
  #sent = 0;
  #paused = false;
  received = 0;

  constructor(readonly done: () => void) {
    super();
  }

  override connectionMade(): void {
    this.transport.registerProducer(this, true);
    this.resumeProducing();
  }

  pauseProducing(): void {
    this.#paused = true;
  }

  resumeProducing(): void {
    this.#paused = false;
    while (this.#sent < TOTAL && !this.#isPaused()) {
      this.#sent += CHUNK.length;
      this.transport.write(CHUNK);
    }
    if (this.#sent >= TOTAL && !this.#isPaused()) {
      this.#sent = Infinity;
      this.transport.unregisterProducer();
      this.transport.closeStdin();
    }
  }

  #isPaused(): boolean {
    return this.#paused;
  }

  stopProducing(): void {
    this.#paused = true;
  }

  override outReceived(data: Buffer): void {
    this.received += data.length;
  }

  override processEnded(reason: Failure): void {
    void reason;
    if (this.received !== TOTAL) throw new Error(`received ${String(this.received)} bytes`);
    this.done();
  }
}

async function mibPerSecond(run: () => Promise<void>): Promise<number> {
  const began = performance.now();
  await run();
  return TOTAL / 1048576 / ((performance.now() - began) / 1000);
}

const torsion = (): Promise<number> =>
  mibPerSecond(
    () =>
      new Promise((resolve) => {
        reactor.spawnProcess(new Feeder(resolve), 'cat');
      }),
  );

const baseline = (): Promise<number> =>
  mibPerSecond(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
        let received = 0;
        let sent = 0;
        child.stdout.on('data', (chunk: Buffer) => {
          received += chunk.length;
        });
        child.on('close', () => {
          if (received === TOTAL) resolve();
          else reject(new Error(`received ${String(received)} bytes`));
        });
        const pump = (): void => {
          while (sent < TOTAL) {
            sent += CHUNK.length;
            if (!child.stdin.write(CHUNK)) {
              child.stdin.once('drain', pump);
              return;
            }
          }
          child.stdin.end();
        };
        pump();
      }),
  );

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const torsionRates: number[] = [];
const baselineRates: number[] = [];
await torsion();
await baseline();
for (let pass = 0; pass < PASSES; pass++) {
  if (pass % 2 === 0) {
    torsionRates.push(await torsion());
    baselineRates.push(await baseline());
  } else {
    baselineRates.push(await baseline());
    torsionRates.push(await torsion());
  }
  console.log(
    `pass ${String(pass + 1)}: spawnProcess ${torsionRates.at(-1)?.toFixed(0) ?? ''} MiB/s, Node streams ${baselineRates.at(-1)?.toFixed(0) ?? ''} MiB/s`,
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
    bench: 'processPipe',
    results: [
      {
        name: `${String(TOTAL / 1048576)} MiB through cat, 64 KiB writes`,
        torsion_mib_s: Math.round(t),
        baseline_mib_s: Math.round(b),
        ratio,
      },
    ],
  }),
);
