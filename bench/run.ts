/**
 * Torsion's benchmark runner: echo round trips (TCP and UNIX sockets), memory
 * per idle connection, callLater, line framing, tiny writes and TLS (echo, handshakes, idle
 * memory), each against a baseline measured in the same run. Prints a report;
 * writes nothing but the C client binaries (bench/bin, gitignored) and
 * throw-away certificates in a temporary directory it removes.
 *
 *   npm run bench                      # build, then everything
 *   npm run bench -- --only echo       # one benchmark (see --help)
 *   npm run bench -- --help            # every option
 *
 * Tests: none (benchmarks run on demand, never as pass/fail; see bench/README.md).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTestCertificates } from '@torsion/core/testing';
import { killAll } from './lib/child.js';
import { pinningProblem } from './lib/cpu.js';
import { echoTable, runEcho } from './lib/echo.js';
import { memoryTable, runMemory } from './lib/memory.js';
import { SERVERS, selectServers } from './lib/servers.js';
import { SCRIPT_BENCHES, runScript, scriptTable, scriptUnavailable } from './lib/scripts.js';
import {
  echoLoads,
  handshakeLoad,
  runTLSMemory,
  runTLSRates,
  skippedLines,
  tlsMemoryTable,
  type TLSLoad,
} from './lib/tls.js';
import { TLS_SERVERS, selectTLSServers, type TLSServerSpec } from './lib/tls-servers.js';
import { UNIX_SERVERS, runUNIXEcho, selectUNIXServers } from './lib/unix-echo.js';
import { connectionTable, runBurst, runIdleRSS, runResets } from './lib/connections.js';
import { int } from './lib/stats.js';
import { runLineServers } from './lib/line-server.js';
import { runScaling, scalingSvg } from './lib/scaling.js';

const HELP = `usage: npm run bench -- [options]

  --only NAME          echo | memory | timers | tiny-writes | lines | udp-echo | tls-echo |
                       tls-handshakes | tls-memory | unix-echo | burst | resets | idle-rss |
                       line-server | scaling |
                       process-spawn | process-pipe
                       (repeat or comma-separate; default all)
  --servers LIST       servers to compare, baseline first (default ${SERVERS.map((s) => s.name).join(',')})
  --tls-servers LIST   TLS servers to compare, baseline first (default ${TLS_SERVERS.map((s) => s.name).join(',')})
  --unix-servers LIST  UNIX echo servers to compare, baseline first (default those that can run of
                       ${UNIX_SERVERS.map((s) => s.name).join(',')})
  --passes N           measured passes per server (echo, unix-echo, tls-echo, tls-handshakes), after one warm-up pass (default 9)
  --duration S         seconds per pass (default 5)
  --warmup S           uncounted seconds at the start of each pass (default 1)
  --connections N      echo and TLS echo connections, TLS handshakes in progress at a time (default 10)
  --size BYTES         echo message size (default 1024)
  --tls-sizes LIST     TLS echo message sizes (default 1024,102400)
  --idle N             idle connections for the memory benchmark (default 10000)
  --tls-idle N         idle TLS connections at the second reading; the first is at N/5 (default 10000)
  --memory-passes N    memory passes per server, TCP and TLS, and idle-rss (default 3)
  --bursts LIST        burst sizes, connections opened at once (default 1000,10000)
  --resets N           connect-then-reset loop length (default 5000)
  --connect-passes N   passes per server for burst, resets and scaling (default 3)
  --write-plot         scaling: write docs/performance-scaling.svg from this run's results
  --quiet-wait S       before each pass, wait up to S s for other work to stop (default 60; 0 = off)
  --busy-poll          echo clients spin instead of sleeping (for VMs with slow wakeups)
  --no-pin             do not pin server and client to separate cores
  --json               also print every figure as one JSON line at the end
  --help               this text
`;

const TLS_BENCHES = ['tls-echo', 'tls-handshakes', 'tls-memory'];
const CONNECTION_BENCHES = ['burst', 'resets', 'idle-rss', 'line-server', 'scaling'];
const BENCHES = [
  'echo',
  'memory',
  ...SCRIPT_BENCHES.map((b) => b.key),
  ...TLS_BENCHES,
  'unix-echo',
  ...CONNECTION_BENCHES,
];

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
const tlsClientPath = `${root}bench/bin/tls-echo-client`;

function buildClient(): void {
  mkdirSync(`${root}bench/bin`, { recursive: true });
  execFileSync('gcc', ['-O2', '-o', clientPath, `${root}bench/echo-client.c`], {
    stdio: 'inherit',
  });
}

function buildTLSClient(): void {
  mkdirSync(`${root}bench/bin`, { recursive: true });
  try {
    execFileSync(
      'gcc',
      ['-O2', '-o', tlsClientPath, `${root}bench/tls-echo-client.c`, '-lssl', '-lcrypto'],
      { stdio: 'inherit' },
    );
  } catch {
    throw new Error(
      'could not build bench/tls-echo-client.c: it needs OpenSSL headers (libssl-dev)',
    );
  }
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
      'tls-servers': { type: 'string' },
      'unix-servers': { type: 'string' },
      'tls-sizes': { type: 'string' },
      'tls-idle': { type: 'string' },
      'memory-passes': { type: 'string' },
      bursts: { type: 'string' },
      resets: { type: 'string' },
      'connect-passes': { type: 'string' },
      'write-plot': { type: 'boolean', default: false },
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
  const tlsServers = selectTLSServers(
    list(values['tls-servers'] === undefined ? [] : [values['tls-servers']]),
  );
  const wantsTLS = TLS_BENCHES.some(wanted);
  // The TCP servers matter only to echo and memory: a TLS-only run does not need Bun.
  const tcpServers = wanted('echo') || wanted('memory') || CONNECTION_BENCHES.some(wanted);
  for (const spec of tcpServers ? servers : []) {
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
  if (tcpServers) {
    say(`servers: ${servers.map((s) => `${s.name} (${s.description})`).join('; ')}`);
  }
  if (wantsTLS) {
    say(`TLS servers: ${tlsServers.map((s) => `${s.name} (${s.description})`).join('; ')}`);
  }
  say('');

  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    pin,
  };
  const tables: string[] = [];

  if (tcpServers || wanted('unix-echo')) buildClient();

  // The echo options, shared by the TCP and the UNIX echo benchmarks.
  const echoOptions = {
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

  if (wanted('echo')) {
    const opts = echoOptions;
    const results = await runEcho(servers, opts, say);
    report.echo = { options: { ...opts, client: undefined }, results };
    tables.push(
      `Echo round trips per second: ${opts.size} B messages, ${opts.connections} connections, ` +
        `${opts.passes} passes x ${opts.duration} s, medians (target: torsion >= 0.95x net)\n` +
        echoTable(results),
    );
  }

  if (wanted('unix-echo')) {
    const unixServers = selectUNIXServers(
      list(values['unix-servers'] === undefined ? [] : [values['unix-servers']]),
    );
    say(`UNIX servers: ${unixServers.map((s) => `${s.name} (${s.description})`).join('; ')}`);
    const opts = echoOptions;
    const results = await runUNIXEcho(unixServers, opts, say);
    report['unix-echo'] = { options: { ...opts, client: undefined }, results };
    tables.push(
      `UNIX echo round trips per second: ${opts.size} B messages, ${opts.connections} connections, ` +
        `${opts.passes} passes x ${opts.duration} s, medians (target: torsion-unix >= 0.95x net-unix)\n` +
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

  const connectOpts = {
    passes: positive('connect-passes', values['connect-passes'], 3, true),
    pin,
    client: clientPath,
  };
  if (wanted('burst')) {
    for (const size of list(values.bursts === undefined ? ['1000,10000'] : [values.bursts])) {
      const n = positive('bursts', size, 1000, true);
      const results = await runBurst(servers, n, connectOpts, say);
      report[`burst-${String(n)}`] = { options: { ...connectOpts, client: undefined }, results };
      tables.push(
        `Connection burst: ${int(n)} connects at once, seconds until all are served, ` +
          `${connectOpts.passes} passes, medians (target: <= 1.2x net)\n` +
          connectionTable(results, 'seconds'),
      );
    }
  }
  if (wanted('resets')) {
    const n = positive('resets', values.resets, 5000, true);
    const results = await runResets(servers, n, connectOpts, say);
    report.resets = { options: { ...connectOpts, client: undefined }, results };
    tables.push(
      `Connect-then-reset loop: ${int(n)} connections, seconds, ${connectOpts.passes} passes, ` +
        `medians (target: <= 2 s)\n` +
        connectionTable(results, 'seconds'),
    );
  }
  if (wanted('line-server')) {
    const lines = 100;
    const results = await runLineServers(lines, echoOptions, say);
    report['line-server'] = { options: { ...echoOptions, client: undefined, lines }, results };
    tables.push(
      `Line server: 64-byte lines, pipelined in batches of ${lines}, ${echoOptions.connections} ` +
        `connections, round trips (batches) per second, ${echoOptions.passes} passes x ` +
        `${echoOptions.duration} s, medians (target: torsion-cli-lines >= 1.5x net-readline)\n` +
        echoTable(results),
    );
  }
  if (wanted('scaling')) {
    const scalingServers = servers.filter(
      (s) => s.name.startsWith('net') || s.name.startsWith('torsion'),
    );
    const results = await runScaling(
      scalingServers,
      {
        passes: connectOpts.passes,
        duration: echoOptions.duration,
        pin,
        client: clientPath,
        active: [10, 100, 1000],
        idle: [1000, 5000, 10000],
      },
      say,
    );
    report.scaling = { results };
    tables.push(
      `Scaling (medians of ${connectOpts.passes} passes): echo rt/s at 10/100/1,000 active ` +
        `connections; RSS at 1,000/5,000/10,000 idle\n` +
        results
          .map(
            (r) =>
              `${r.name}: ${r.throughput.map(([n, v]) => `${n}: ${int(v)} rt/s`).join(', ')}; ` +
              r.rss.map(([n, v]) => `${n}: ${int(v / 1024)} KiB`).join(', '),
          )
          .join('\n'),
    );
    if (values['write-plot']) {
      const plot = `${root}docs/performance-scaling.svg`;
      const caption = `${new Date().toISOString().slice(0, 16)} UTC, node ${process.version}, ${connectOpts.passes} passes, medians`;
      writeFileSync(plot, scalingSvg(results, caption));
      say(`wrote ${plot}`);
    }
  }
  if (wanted('idle-rss')) {
    const n = positive('idle', values.idle, 10000, true);
    const opts = {
      ...connectOpts,
      passes: positive('memory-passes', values['memory-passes'], 3, true),
    };
    const results = await runIdleRSS(servers, n, opts, say);
    report['idle-rss'] = { options: { ...opts, client: undefined }, results };
    tables.push(
      `RSS per idle connection, no forced GC: (RSS at ${int(n)} - RSS at ${int(n / 10)}) / ` +
        `${int(n - n / 10)}, ${opts.passes} passes, medians (target: torsion <= net + 512 B)\n` +
        connectionTable(results, 'bytes'),
    );
  }

  if (wantsTLS) {
    buildTLSClient();
    const certDir = mkdtempSync(join(tmpdir(), 'torsion-bench-tls-'));
    try {
      await runTLS(values, wanted, tlsServers, certDir, pin, report, tables);
    } finally {
      rmSync(certDir, { recursive: true, force: true });
    }
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

/** The three TLS benchmarks, as `wanted` selects them; tables and report entries appended. */
async function runTLS(
  values: Readonly<Record<string, unknown>>,
  wanted: (bench: string) => boolean,
  tlsServers: readonly TLSServerSpec[],
  certDir: string,
  pin: boolean,
  report: Record<string, unknown>,
  tables: string[],
): Promise<void> {
  const option = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const certs = writeTestCertificates(certDir);
  const files = { keyFile: certs.serverKey, certFile: certs.serverCert };
  const common = { pin, client: tlsClientPath, files };
  const connections = positive('connections', option('connections'), 10, true);
  const rateOpts = {
    ...common,
    passes: positive('passes', option('passes'), 9, true),
    duration: positive('duration', option('duration'), 5, false),
    warmup: positive('warmup', option('warmup'), 1, false),
    quietWait:
      option('quiet-wait') === '0' ? 0 : positive('quiet-wait', option('quiet-wait'), 60, false),
  };
  const sizes = list([option('tls-sizes') ?? '1024,102400']).map((v) =>
    positive('tls-sizes', v, 0, true),
  );
  const loads: TLSLoad[] = [];
  if (wanted('tls-echo'))
    loads.push(...echoLoads(sizes, connections, values['busy-poll'] === true));
  if (wanted('tls-handshakes')) loads.push(handshakeLoad(connections));
  if (loads.length > 0) {
    const rates = await runTLSRates(tlsServers, loads, rateOpts, say);
    const { client: _client, files: _files, ...shown } = rateOpts;
    for (const { load, results, skipped } of rates) {
      report[`tls-${load.key}`] = { options: { ...shown, connections }, results, skipped };
      const what =
        load.unit === 'hs'
          ? `New TLS 1.3 handshakes per second (no resumption; connect, handshake, close_notify ` +
            `both ways, close), ${connections} at a time`
          : `TLS echo round trips per second: ${load.key.slice(5)} B messages, ${connections} connections`;
      tables.push(
        `${what}, ${rateOpts.passes} passes x ${rateOpts.duration} s, medians ` +
          `(target: torsion >= 0.95x tls)\n` +
          echoTable(results, load.unit) +
          skippedLines(skipped),
      );
    }
  }
  if (wanted('tls-memory')) {
    const idle = positive('tls-idle', option('tls-idle'), 10000, true);
    if (idle < 5) throw new Error(`--tls-idle wants at least 5 (the first reading is at N/5)`);
    const memOpts = {
      ...common,
      passes: positive('memory-passes', option('memory-passes'), 3, true),
      connections: idle,
      first: Math.floor(idle / 5),
    };
    const result = await runTLSMemory(tlsServers, memOpts, say);
    report['tls-memory'] = {
      options: { passes: memOpts.passes, connections: idle, first: memOpts.first },
      ...result,
    };
    tables.push(
      `Memory per idle TLS connection: RSS slope from ${memOpts.first} to ${idle} connections after ` +
        `their handshakes, no forced GC, ${memOpts.passes} passes, medians ` +
        `(target: torsion <= tls + 1024 B)\n${tlsMemoryTable(result)}${skippedLines(result.skipped)}`,
    );
  }
}

// Interrupted or terminated (Ctrl-C, `kill`, a CI timeout): the servers and the
// load generator are separate processes and would keep running, pinned to the CPUs.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(code);
  });
}

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
