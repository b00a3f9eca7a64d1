/**
 * Benchmarks that are standalone scripts run by the runner: bench/call-later.ts
 * (callLater vs setTimeout) and bench/line-receiver.ts (line framing vs
 * readline). Each owns its method and passes; this module runs it under
 * `node --expose-gc --import tsx`, passes its progress lines through and
 * collects the JSON object it prints as its last line:
 * `{"bench": <name>, "results": [{"name": .., "ratio": .., ...}, ...]}`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVER_CPU, pinned } from './cpu.js';
import { LineProcess } from './child.js';
import { table } from './stats.js';

/** A benchmark script the runner knows about. */
export interface ScriptBench {
  /** The runner's name for it (`--only <key>`). */
  readonly key: string;
  /** The `bench` field its JSON line carries. */
  readonly bench: string;
  /** Path relative to the repository root. */
  readonly script: string;
  /** Heading for the report, including the target. */
  readonly title: string;
}

/** One result row; `ratio` >= 1 means Torsion met its baseline, other fields are shown as they come. */
export interface ScriptResult {
  readonly name: string;
  readonly ratio: number;
  readonly [field: string]: unknown;
}

/** The script benchmarks, in report order. */
export const SCRIPT_BENCHES: readonly ScriptBench[] = [
  {
    key: 'timers',
    bench: 'callLater',
    script: 'bench/call-later.ts',
    title:
      'callLater vs setTimeout (bench/call-later.ts; ratio = setTimeout ms / torsion ms, target >= 1)',
  },
  {
    key: 'tiny-writes',
    bench: 'tinyWrites',
    script: 'bench/tiny-writes.ts',
    title:
      'Tiny writes to peers that never read (bench/tiny-writes.ts; RSS growth per connection, ratio = net KiB / this KiB, >= 1: holds less than plain net)',
  },
  {
    key: 'lines',
    bench: 'lines',
    script: 'bench/line-receiver.ts',
    title:
      'Line framing vs readline (bench/line-receiver.ts; ratio = torsion lines/s / readline lines/s, target >= 2)',
  },
  {
    key: 'udp-echo',
    bench: 'udpEcho',
    script: 'bench/udp-echo.ts',
    title:
      'UDP echo vs node:dgram (bench/udp-echo.ts; datagrams/s, ratio = this / dgram, target >= 0.95 for torsion)',
  },
  {
    key: 'process-spawn',
    bench: 'processSpawn',
    script: 'bench/process-spawn.ts',
    title:
      'spawnProcess vs child_process.spawn (bench/process-spawn.ts; /bin/true started and ended per second, ratio = torsion / spawn, target >= 0.95)',
  },
  {
    key: 'process-pipe',
    bench: 'processPipe',
    script: 'bench/process-pipe.ts',
    title:
      'Bytes through cat, spawnProcess vs Node streams (bench/process-pipe.ts; MiB/s, ratio = torsion / streams, target >= 0.95)',
  },
];

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Why `spec` cannot run, or null when it can. */
export function scriptUnavailable(spec: ScriptBench): string | null {
  if (!existsSync(`${root}${spec.script}`)) return `${spec.script} is not there`;
  if (!existsSync(`${root}node_modules/tsx`)) return 'tsx is not installed (npm install)';
  return null;
}

/**
 * Runs `spec`'s script (pinned to the server core when `pin`) and returns its
 * results. Every line but the last goes to `progress`.
 * @throws Error if it fails, takes over `timeoutSeconds`, or ends without the JSON line.
 */
export async function runScript(
  spec: ScriptBench,
  pin: boolean,
  timeoutSeconds: number,
  progress: (line: string) => void,
): Promise<ScriptResult[]> {
  // --expose-gc lets a script collect garbage between passes (call-later.ts does).
  const argv = [process.execPath, '--expose-gc', '--import', 'tsx', `${root}${spec.script}`];
  const proc = new LineProcess(spec.key, pinned(argv, pin ? SERVER_CPU : null), root);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last: string | null = null;
  try {
    for (;;) {
      let line: string;
      try {
        line = await proc.nextLine(Math.max(1, (deadline - Date.now()) / 1000));
      } catch (err) {
        if (proc.running) throw err;
        break;
      }
      if (last !== null) progress(`${spec.key}: ${last}`);
      last = line;
    }
    const code = await proc.exited();
    if (code !== 0) throw new Error(`${spec.script} exited with ${String(code)}\n${proc.stderr}`);
    if (last === null) throw new Error(`${spec.script} printed nothing`);
    const parsed = JSON.parse(last) as { bench?: unknown; results?: ScriptResult[] };
    if (parsed.bench !== spec.bench || !Array.isArray(parsed.results)) {
      throw new Error(`${spec.script}: unexpected last line ${last}`);
    }
    return parsed.results;
  } finally {
    await proc.stop(1);
  }
}

function cell(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(3);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The report table for a script's results: one column per field, ratio last. */
export function scriptTable(results: readonly ScriptResult[]): string {
  const fields = [...new Set(results.flatMap((r) => Object.keys(r)))].filter(
    (f) => f !== 'name' && f !== 'ratio',
  );
  return table(
    ['case', ...fields, 'ratio'],
    results.map((r) => [r.name, ...fields.map((f) => cell(r[f])), `${r.ratio.toFixed(3)}x`]),
  );
}
