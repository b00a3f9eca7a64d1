/**
 * Torsion's benchmark runner: echo round trips, memory per idle connection,
 * and callLater, each against a baseline measured in the same run. Prints a
 * report; writes nothing but the C client binary (bench/bin, gitignored).
 *
 *   npm run bench                      # build, then everything
 *   npm run bench -- --only echo       # one benchmark (echo | memory | timers)
 *   npm run bench -- --help            # every option
 *
 * Tests: none (benchmarks run on demand, never as pass/fail; see bench/README.md).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAll } from './lib/child.js';
import { pinningProblem } from './lib/cpu.js';
import { echoTable, runEcho } from './lib/echo.js';
import { memoryTable, runMemory } from './lib/memory.js';
import { SERVERS, selectServers } from './lib/servers.js';
import { SCRIPT_BENCHES, runScript, scriptTable, scriptUnavailable } from './lib/scripts.js';

const HELP = `usage: npm run bench -- [options]

  --only NAME          echo | memory | timers | tiny-writes | lines (repeat or comma-separate; default all)
  --servers LIST       servers to compare, baseline first (default ${SERVERS.map((s) => s.name).join(',')})
  --passes N           measured echo passes per server, after one warm-up pass (default 9)
  --duration S         seconds per echo pass (default 5)
  --warmup S           uncounted seconds at the start of each echo pass (default 1)
  --connections N      echo connections (default 10)
  --size BYTES         echo message size (default 1024)
  --idle N             idle connections for the memory benchmark (default 10000)
  --memory-passes N    memory passes per server (default 3)
  --quiet-wait S       before each echo pass, wait up to S s for other work to stop (default 60; 0 = off)
  --busy-poll          echo client spins instead of sleeping (for VMs with slow wakeups)
  --no-pin             do not pin server and client to separate cores
  --json               also print every figure as one JSON line at the end
  --help               this text
`;

const BENCHES = ['echo', 'memory', ...SCRIPT_BENCHES.map((b) => b.key)];

function positive(
  name: string,
  value: string | undefined,
  fallback: number,
  integer: boolean,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} wants a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return n;
}

function list(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).filter((v) => v !== '');
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const clientPath = `${root}bench/bin/echo-client`;

function buildClient(): void {
  mkdirSync(`${root}bench/bin`, { recursive: true });
  execFileSync('gcc', ['-O2', '-o', clientPath, `${root}bench/echo-client.c`], {
    stdio: 'inherit',
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      servers: { type: 'string' },
      passes: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      size: { type: 'string' },
      idle: { type: 'string' },
      'memory-passes': { type: 'string' },
      'quiet-wait': { type: 'string' },
      'busy-poll': { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    say(HELP);
    return 0;
  }
  const only = list(values.only);
  for (const name of only) {
    if (!BENCHES.includes(name)) throw new Error(`--only: unknown benchmark ${name}`);
  }
  const wanted = (b: string): boolean => only.length === 0 || only.includes(b);
  const servers = selectServers(list(values.servers === undefined ? [] : [values.servers]));
  for (const spec of servers) {
    const problem = spec.unavailable();
    if (problem !== null) throw new Error(`server ${spec.name} cannot run: ${problem}`);
  }

  const problem = values['no-pin'] ? 'disabled with --no-pin' : pinningProblem();
  const pin = problem === null;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  say(`Torsion benchmarks, ${new Date().toISOString()}`);
  say(
    `node ${process.version}, ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );
  say(pin ? 'pinning: servers on CPU 0, client on CPU 1' : `pinning: off (${problem})`);
  if (wanted('echo') || wanted('memory')) {
    say(`servers: ${servers.map((s) => `${s.name} (${s.description})`).join('; ')}`);
  }
  say('');

  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    pin,
  };
  const tables: string[] = [];

  if (wanted('echo') || wanted('memory')) buildClient();

  if (wanted('echo')) {
    const opts = {
      passes: positive('passes', values.passes, 9, true),
      duration: positive('duration', values.duration, 5, false),
      warmup: positive('warmup', values.warmup, 1, false),
      connections: positive('connections', values.connections, 10, true),
      size: positive('size', values.size, 1024, true),
      busyPoll: values['busy-poll'],
      quietWait:
        values['quiet-wait'] === '0' ? 0 : positive('quiet-wait', values['quiet-wait'], 60, false),
      pin,
      client: clientPath,
    };
    const results = await runEcho(servers, opts, say);
    report.echo = { options: { ...opts, client: undefined }, results };
    tables.push(
      `Echo round trips per second: ${opts.size} B messages, ${opts.connections} connections, ` +
        `${opts.passes} passes x ${opts.duration} s, medians (target: torsion >= 0.95x net)\n` +
        echoTable(results),
    );
  }

  if (wanted('memory')) {
    const opts = {
      passes: positive('memory-passes', values['memory-passes'], 3, true),
      connections: positive('idle', values.idle, 10000, true),
      pin,
      client: clientPath,
    };
    const results = await runMemory(servers, opts, say);
    report.memory = { options: { ...opts, client: undefined }, results };
    tables.push(
      `Memory per idle connection: ${opts.connections} connections, growth after forced GC, ` +
        `${opts.passes} passes, medians (target: torsion <= net + 1024 B)\n` +
        memoryTable(results),
    );
  }

  for (const spec of SCRIPT_BENCHES) {
    if (!wanted(spec.key)) continue;
    const missing = scriptUnavailable(spec);
    if (missing === null) {
      const results = await runScript(spec, pin, 600, say);
      report[spec.key] = { results };
      tables.push(`${spec.title}\n${scriptTable(results)}`);
    } else {
      report[spec.key] = { skipped: missing };
      tables.push(`${spec.title}: skipped, ${missing}`);
    }
  }

  say('');
  say(tables.join('\n\n'));
  if (values.json) say(JSON.stringify(report));
  return 0;
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killAll();
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
