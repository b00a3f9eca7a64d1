/**
 * The TLS benchmarks: echo round trips over TLS (1 KiB and 100 KiB
 * messages), new TLS 1.3 handshakes per second without resumption, and
 * resident memory per idle TLS connection, each server against the plain
 * `node:tls` baseline measured in the same run.
 *
 * Rates follow the echo benchmark (lib/echo.ts): every server its own process
 * pinned to one core, the C client (bench/tls-echo-client.c) pinned to the
 * other, one discarded warm-up pass per server and load, then servers
 * alternating for the measured passes, each started on a quiet machine and
 * repeated when other work disturbed it; medians and per-pass ratios.
 *
 * Memory is measured as an operator sees it, with no forced GC: in a fresh
 * server, the client opens FIRST connections and completes their handshakes,
 * the runner waits until the server's CPU is idle and reads its VmRSS, then
 * the client opens the rest up to N and the runner reads VmRSS again. The cost
 * per connection is the slope, (RSS at N - RSS at FIRST) / (N - FIRST), so
 * what a process pays once (the secure context, the JIT, a heap that grows
 * in steps) is not divided among the connections.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { LineProcess } from './child.js';
import { CLIENT_CPU, SERVER_CPU, cpuSeconds, pinned } from './cpu.js';
import {
  clientPass,
  quietPass,
  summarize,
  type EchoServerResult,
  type PassResult,
} from './echo.js';
import { int, median, range, table } from './stats.js';
import type { TLSServerFiles, TLSServerSpec } from './tls-servers.js';

/** What every TLS benchmark needs. */
export interface TLSCommonOptions {
  readonly pin: boolean;
  /** Path of the built bench/tls-echo-client. */
  readonly client: string;
  /** Key and certificate every server is started with. */
  readonly files: TLSServerFiles;
}

/** One load a rate benchmark puts on every server. */
export interface TLSLoad {
  /** Key in the report, e.g. `echo-1024` or `handshakes`. */
  readonly key: string;
  /** What the client does, for progress lines. */
  readonly label: string;
  /** Unit of the rate, for the table: `rt` (round trips) or `hs` (handshakes). */
  readonly unit: string;
  /** The client's mode arguments (after `-p PORT`). */
  readonly args: readonly string[];
}

/** Settings for the TLS rate benchmarks (echo, handshakes). */
export interface TLSRateOptions extends TLSCommonOptions {
  /** Measured passes per server and load (the warm-up pass comes on top). */
  readonly passes: number;
  /** Seconds counted per pass. */
  readonly duration: number;
  /** Uncounted seconds at the start of every pass. */
  readonly warmup: number;
  /** Before each pass, wait up to this many seconds for other work to stop (0: off). */
  readonly quietWait: number;
}

/** Settings for the TLS memory benchmark. */
export interface TLSMemoryOptions extends TLSCommonOptions {
  /** Passes per server (each with a fresh server). */
  readonly passes: number;
  /** Idle connections at the second reading. */
  readonly connections: number;
  /** Idle connections at the first reading. */
  readonly first: number;
}

/** A server that could not run here, and why. */
export interface TLSSkipped {
  readonly name: string;
  readonly reason: string;
}

/** One load's results: every server that ran, and the ones skipped. */
export interface TLSRateResult {
  readonly load: TLSLoad;
  readonly results: EchoServerResult[];
  readonly skipped: TLSSkipped[];
}

/** One server's memory results, in bytes. */
export interface TLSMemoryServerResult {
  readonly name: string;
  /** RSS growth per connection between the two readings, one per pass. */
  readonly perConnection: number[];
  /** RSS growth from the idle server to N connections, one per pass. */
  readonly growth: number[];
  readonly perConnectionMedian: number;
  /** perConnectionMedian minus the baseline's (0 for the baseline). */
  readonly vsBaseline: number;
}

/** The TLS memory benchmark's results. */
export interface TLSMemoryResult {
  readonly results: TLSMemoryServerResult[];
  readonly skipped: TLSSkipped[];
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** A port nothing listens on now (the server binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('not a TCP address');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      // Closed before any ClientHello: the server logs (at most) a failed handshake.
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(false);
    });
  });
}

/** The last line a process wrote on stderr, as the reason it could not run. */
function reasonFrom(proc: LineProcess): string {
  const lines = proc.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const last = lines.at(-1) ?? 'exited without a message';
  return last.length > 200 ? `${last.slice(0, 200)}…` : last;
}

interface Started {
  readonly spec: TLSServerSpec;
  readonly proc: LineProcess;
  readonly port: number;
}

/**
 * Starts `spec` on a free port and waits until it accepts connections.
 * @returns the running server, or why it could not run (it exited first).
 * @throws Error if it neither listens nor exits within 30 s.
 */
async function startServer(
  spec: TLSServerSpec,
  opts: TLSCommonOptions,
): Promise<Started | TLSSkipped> {
  const why = spec.unavailable();
  if (why !== null) return { name: spec.name, reason: why };
  const port = await freePort();
  const proc = new LineProcess(
    spec.name,
    pinned(spec.argv(port, opts.files), opts.pin ? SERVER_CPU : null),
  );
  // A function, not a property read: it changes while this function awaits.
  const gone = (): boolean => !proc.running;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (gone()) return { name: spec.name, reason: reasonFrom(proc) };
    if (await accepts(port)) {
      // The probe may have been accepted by a server that then fails; look once more.
      await sleep(200);
      if (gone()) return { name: spec.name, reason: reasonFrom(proc) };
      return { spec, proc, port };
    }
    await sleep(100);
  }
  proc.kill();
  throw new Error(`${spec.name}: not listening on ${port} after 30 s\n${proc.stderr}`);
}

async function stopServer(proc: LineProcess): Promise<void> {
  // The servers keep no state worth a clean exit, and the torsion command ignores stdin.
  proc.kill();
  await proc.exited();
}

function isStarted(s: Started | TLSSkipped): s is Started {
  return 'proc' in s;
}

/** The echo loads: one per message size. */
export function echoLoads(
  sizes: readonly number[],
  connections: number,
  busyPoll: boolean,
): TLSLoad[] {
  return sizes.map((size) => ({
    key: `echo-${size}`,
    label: `echo ${size} B x ${connections}`,
    unit: 'rt',
    args: ['-c', String(connections), '-s', String(size), ...(busyPoll ? ['-b'] : [])],
  }));
}

/** The handshake load: `concurrency` connect-handshake-close cycles at a time. */
export function handshakeLoad(concurrency: number): TLSLoad {
  return {
    key: 'handshakes',
    label: `handshakes x ${concurrency}`,
    unit: 'hs',
    args: ['-H', '-c', String(concurrency)],
  };
}

/**
 * Runs every load in `loads` over `servers` (baseline first), the servers
 * started once and kept up for all loads. A server that cannot run is skipped
 * with its reason; the baseline must run.
 */
export async function runTLSRates(
  servers: readonly TLSServerSpec[],
  loads: readonly TLSLoad[],
  opts: TLSRateOptions,
  progress: (line: string) => void,
): Promise<TLSRateResult[]> {
  const running: Started[] = [];
  const skipped: TLSSkipped[] = [];
  try {
    for (const spec of servers) {
      const started = await startServer(spec, opts);
      if (isStarted(started)) {
        running.push(started);
      } else {
        if (spec === servers[0]) {
          throw new Error(`baseline ${spec.name} cannot run: ${started.reason}`);
        }
        progress(`tls: skipping ${started.name}: ${started.reason}`);
        skipped.push(started);
      }
    }
    const out: TLSRateResult[] = [];
    for (const load of loads) {
      const passes = new Map<string, PassResult[]>(running.map((r) => [r.spec.name, []]));
      for (let pass = 0; pass <= opts.passes; pass++) {
        for (const { spec, proc, port } of running) {
          const argv = [
            opts.client,
            '-p',
            String(port),
            ...load.args,
            '-w',
            String(opts.warmup),
            '-d',
            String(opts.duration),
          ];
          const measure = (): Promise<PassResult> =>
            clientPass(
              proc.pid,
              'tls-echo-client',
              argv,
              opts.pin,
              opts.warmup + opts.duration + 60,
            );
          const result = await quietPass(spec.name, measure, opts.quietWait, progress);
          if (!proc.running) throw new Error(`${spec.name} exited during the pass\n${proc.stderr}`);
          const label = pass === 0 ? 'warm-up (discarded)' : `pass ${pass}/${opts.passes}`;
          progress(
            `tls ${load.label} ${label} ${spec.name}: ${int(result.rate)} ${load.unit}/s ` +
              `(cpu: server ${result.serverCpu.toFixed(2)}, client ${result.clientCpu.toFixed(2)}, ` +
              `other ${result.otherCpu.toFixed(2)})`,
          );
          if (pass > 0) passes.get(spec.name)?.push(result);
        }
      }
      out.push({
        load,
        results: summarize(
          running.map((r) => r.spec.name),
          passes,
        ),
        skipped,
      });
    }
    return out;
  } finally {
    await Promise.all(running.map(({ proc }) => stopServer(proc)));
  }
}

/** Resident set size of `pid` in bytes (VmRSS), as `ps` and an operator see it. */
function rss(pid: number | undefined): number {
  const text = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(text);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for process ${String(pid)}`);
  return Number(match[1]) * 1024;
}

/**
 * Waits until `pid` used under 2% of a core for a whole second (its
 * handshakes and whatever it does after them are over), for at most `seconds`.
 */
async function waitIdle(pid: number | undefined, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await sleep(1000);
    const now = cpuSeconds(pid);
    if (now - last < 0.02) return;
    last = now;
  }
}

async function idleConnected(client: LineProcess, wanted: number): Promise<void> {
  const answer = await client.nextJson(600);
  if (answer.connected !== wanted) {
    throw new Error(`tls-echo-client: ${JSON.stringify(answer)}\n${client.stderr}`);
  }
}

async function memoryPass(
  spec: TLSServerSpec,
  opts: TLSMemoryOptions,
): Promise<{ perConnection: number; growth: number } | TLSSkipped> {
  const started = await startServer(spec, opts);
  if (!isStarted(started)) return started;
  const { proc, port } = started;
  let client: LineProcess | null = null;
  try {
    await waitIdle(proc.pid, 10);
    const before = rss(proc.pid);
    const argv = [
      opts.client,
      '-p',
      String(port),
      '-i',
      '-c',
      String(opts.connections),
      '-m',
      String(opts.first),
      '-t',
      '900',
    ];
    client = new LineProcess('tls-echo-client', pinned(argv, opts.pin ? CLIENT_CPU : null));
    await idleConnected(client, opts.first);
    await waitIdle(proc.pid, 60);
    const atFirst = rss(proc.pid);
    client.send('more');
    await idleConnected(client, opts.connections);
    await waitIdle(proc.pid, 60);
    const atAll = rss(proc.pid);
    if (!proc.running) throw new Error(`${spec.name} exited during the pass\n${proc.stderr}`);
    return {
      perConnection: (atAll - atFirst) / (opts.connections - opts.first),
      growth: (atAll - before) / opts.connections,
    };
  } finally {
    await stopServer(proc);
    if (client !== null) await client.stop();
  }
}

/**
 * Runs the TLS memory benchmark over `servers` (baseline first), a fresh
 * server for every pass, servers alternating.
 */
export async function runTLSMemory(
  servers: readonly TLSServerSpec[],
  opts: TLSMemoryOptions,
  progress: (line: string) => void,
): Promise<TLSMemoryResult> {
  const samples = new Map<string, { perConnection: number[]; growth: number[] }>();
  const skipped: TLSSkipped[] = [];
  for (let pass = 1; pass <= opts.passes; pass++) {
    for (const spec of servers) {
      if (skipped.some((s) => s.name === spec.name)) continue;
      const result = await memoryPass(spec, opts);
      if ('reason' in result) {
        if (spec === servers[0])
          throw new Error(`baseline ${spec.name} cannot run: ${result.reason}`);
        progress(`tls: skipping ${spec.name}: ${result.reason}`);
        skipped.push(result);
        continue;
      }
      progress(
        `tls memory pass ${pass}/${opts.passes} ${spec.name}: ${int(result.perConnection)} B rss ` +
          `per connection from ${opts.first} to ${opts.connections} ` +
          `(${int(result.growth)} B per connection from none)`,
      );
      const entry = samples.get(spec.name) ?? { perConnection: [], growth: [] };
      entry.perConnection.push(result.perConnection);
      entry.growth.push(result.growth);
      samples.set(spec.name, entry);
    }
  }
  const results = servers
    .filter((s) => samples.has(s.name))
    .map((spec) => {
      const entry = samples.get(spec.name) ?? { perConnection: [], growth: [] };
      return { name: spec.name, ...entry, perConnectionMedian: median(entry.perConnection) };
    });
  const base = results[0]?.perConnectionMedian ?? Number.NaN;
  return {
    results: results.map((r) => ({ ...r, vsBaseline: r.perConnectionMedian - base })),
    skipped,
  };
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? '+' : '-'}${int(Math.abs(bytes))}`;
}

/** The report table for {@link runTLSMemory}'s results. */
export function tlsMemoryTable(result: TLSMemoryResult): string {
  const base = result.results[0]?.name ?? '';
  return table(
    ['server', 'rss B/conn', 'min..max', `vs ${base}`, 'rss B/conn from none'],
    result.results.map((r) => {
      const [lo, hi] = range(r.perConnection);
      return [
        r.name,
        int(r.perConnectionMedian),
        `${int(lo)}..${int(hi)}`,
        signed(r.vsBaseline),
        int(median(r.growth)),
      ];
    }),
  );
}

/** "skipped: name (reason); …" lines under a table, or nothing. */
export function skippedLines(skipped: readonly TLSSkipped[]): string {
  return skipped.map((s) => `\nskipped ${s.name}: ${s.reason}`).join('');
}
