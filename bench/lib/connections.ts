/**
 * What a server pays per connection, as an operator sees it (no forced GC):
 *
 * - `burst`: the C client starts N connects at once (1,000 and 10,000 by
 *   default, `--bursts`), each sends a byte and waits for its echo; the
 *   figure is the time until every connection was served. A listen backlog
 *   that overflows shows as about one second (a SYN retransmit).
 * - `resets`: N (`--resets`, default 5,000) blocking connects, each closed at
 *   once with a reset (SO_LINGER 0), in a tight loop; the figure is the loop's time.
 * - `idle-rss`: RSS per idle connection as (RSS with N idle − RSS with N/10
 *   idle) / (N − N/10), read from /proc once the server's CPU is idle, so
 *   what a process pays once is not divided among connections.
 *
 * Each server is a fresh process per pass, servers alternate, medians; every
 * figure is also given as a ratio to the baseline's in the same pass, with
 * the load generator's own CPU (a client near a full core is the client's
 * ceiling, and the table says so).
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { LineProcess } from './child.js';
import { CLIENT_CPU, SERVER_CPU, cpuSeconds, pinned } from './cpu.js';
import type { ServerSpec } from './servers.js';
import { int, median, range, ratio, table } from './stats.js';

/** Settings for the connection benchmarks. */
export interface ConnectionOptions {
  readonly passes: number;
  readonly pin: boolean;
  /** Path of the built C client. */
  readonly client: string;
}

/** One server's figures in one benchmark. */
export interface ConnectionResult {
  readonly name: string;
  /** The figure per pass (seconds, or bytes per connection). */
  readonly values: number[];
  /** This server's figure ÷ the baseline's, per pass. */
  readonly passRatios: number[];
  /** The client's CPU (cores) per pass. */
  readonly clientCpu: number[];
  readonly median: number;
}

/** Client CPU at or above this (cores) means the client, not the server, set the pace. */
export const CLIENT_CEILING = 0.9;

/** A free TCP port on 127.0.0.1, for servers that take their port as an argument. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `spec` and returns it with its port: from the first stdout line, or,
 * for a server given its port (`argvForPort`), once it accepts a connection.
 */
export async function startServer(
  spec: ServerSpec,
  pin: boolean,
): Promise<{ proc: LineProcess; port: number }> {
  if (spec.argvForPort === undefined) {
    const proc = new LineProcess(spec.name, pinned(spec.argv, pin ? SERVER_CPU : null));
    const line = await proc.nextLine(30);
    const port = Number(line);
    if (!Number.isInteger(port) || port <= 0) {
      throw new Error(
        `${spec.name}: expected a port on the first line, got ${JSON.stringify(line)}`,
      );
    }
    return { proc, port };
  }
  const port = await freePort();
  const proc = new LineProcess(spec.name, pinned(spec.argvForPort(port), pin ? SERVER_CPU : null));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!proc.running) throw new Error(`${spec.name} exited: ${proc.stderr}`);
    if (await accepts(port)) return { proc, port };
    if (Date.now() > deadline) throw new Error(`${spec.name}: not listening on ${port} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function accepts(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(false);
    });
  });
}

function rssBytes(pid: number | undefined): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return Number(kib) * 1024;
}

/** Waits until the process uses under 2% of a core for a whole second (at most 30 s). */
async function idle(pid: number | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  let before = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = cpuSeconds(pid);
    if (now - before < 0.02) return;
    before = now;
  }
}

async function runClient(
  opts: ConnectionOptions,
  args: string[],
  timeoutSeconds: number,
): Promise<{ client: LineProcess; answer: Record<string, unknown> }> {
  const client = new LineProcess(
    'echo-client',
    pinned([opts.client, ...args], opts.pin ? CLIENT_CPU : null),
  );
  try {
    return { client, answer: await client.nextJson(timeoutSeconds) };
  } catch (err) {
    await client.stop();
    throw new Error(`echo-client ${args.join(' ')}: ${String(err)}\n${client.stderr}`, {
      cause: err,
    });
  }
}

/** One measurement of one server: the figure and the client's CPU. */
type Measure = (spec: ServerSpec) => Promise<{ value: number; clientCpu: number }>;

async function alternate(
  label: string,
  servers: readonly ServerSpec[],
  opts: ConnectionOptions,
  measure: Measure,
  unit: (v: number) => string,
  progress: (line: string) => void,
): Promise<ConnectionResult[]> {
  const values = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const cpus = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  for (let pass = 1; pass <= opts.passes; pass++) {
    for (const spec of servers) {
      const { value, clientCpu } = await measure(spec);
      progress(
        `${label} pass ${pass}/${opts.passes} ${spec.name}: ${unit(value)} (client cpu ${clientCpu.toFixed(2)})`,
      );
      values.get(spec.name)?.push(value);
      cpus.get(spec.name)?.push(clientCpu);
    }
  }
  const base = values.get(servers[0]?.name ?? '') ?? [];
  return servers.map((spec) => {
    const v = values.get(spec.name) ?? [];
    return {
      name: spec.name,
      values: v,
      passRatios: v.map((x, i) => x / (base[i] ?? Number.NaN)),
      clientCpu: cpus.get(spec.name) ?? [],
      median: median(v),
    };
  });
}

/** Time until `connections` connections opened in one burst are all served. */
export function runBurst(
  servers: readonly ServerSpec[],
  connections: number,
  opts: ConnectionOptions,
  progress: (line: string) => void,
): Promise<ConnectionResult[]> {
  return alternate(
    `burst ${int(connections)}`,
    servers,
    opts,
    async (spec) => {
      const { proc, port } = await startServer(spec, opts.pin);
      try {
        await idle(proc.pid);
        const args = ['-B', '-p', String(port), '-c', String(connections), '-t', '120'];
        const { client, answer } = await runClient(opts, args, 150);
        await client.stop();
        return { value: Number(answer.served_s), clientCpu: Number(answer.client_cpu) };
      } finally {
        await proc.stop();
      }
    },
    (v) => `${v.toFixed(3)} s`,
    progress,
  );
}

/** Time of a tight loop of `count` connect-then-reset. */
export function runResets(
  servers: readonly ServerSpec[],
  count: number,
  opts: ConnectionOptions,
  progress: (line: string) => void,
): Promise<ConnectionResult[]> {
  return alternate(
    `resets ${int(count)}`,
    servers,
    opts,
    async (spec) => {
      const { proc, port } = await startServer(spec, opts.pin);
      try {
        await idle(proc.pid);
        const args = ['-R', '-p', String(port), '-c', String(count), '-t', '300'];
        const { client, answer } = await runClient(opts, args, 330);
        await client.stop();
        return { value: Number(answer.seconds), clientCpu: Number(answer.client_cpu) };
      } finally {
        await proc.stop();
      }
    },
    (v) => `${v.toFixed(3)} s`,
    progress,
  );
}

/** RSS per idle connection: the slope from `connections`/10 to `connections` idle, no forced GC. */
export function runIdleRSS(
  servers: readonly ServerSpec[],
  connections: number,
  opts: ConnectionOptions,
  progress: (line: string) => void,
): Promise<ConnectionResult[]> {
  const first = Math.max(1, Math.round(connections / 10));
  return alternate(
    `idle-rss ${int(first)}->${int(connections)}`,
    servers,
    opts,
    async (spec) => {
      const { proc, port } = await startServer(spec, opts.pin);
      const clients: LineProcess[] = [];
      try {
        const open = async (n: number): Promise<void> => {
          const args = ['-i', '-p', String(port), '-c', String(n), '-t', '300'];
          const { client, answer } = await runClient(opts, args, 120);
          clients.push(client);
          if (answer.connected !== n) throw new Error(`echo-client: ${JSON.stringify(answer)}`);
          await idle(proc.pid);
        };
        await open(first);
        const low = rssBytes(proc.pid);
        await open(connections - first);
        const high = rssBytes(proc.pid);
        return { value: (high - low) / (connections - first), clientCpu: 0 };
      } finally {
        await proc.stop();
        await Promise.all(clients.map((c) => c.stop()));
      }
    },
    (v) => `${int(v)} B/conn`,
    progress,
  );
}

/**
 * The report table: median, min..max, ratio of medians and per-pass ratios
 * against the baseline (or the difference in bytes, for memory), client CPU.
 */
export function connectionTable(
  results: readonly ConnectionResult[],
  kind: 'seconds' | 'bytes',
): string {
  const base = results[0];
  const rows = results.map((r) => {
    const [lo, hi] = range(r.values);
    const fmt = (v: number): string => (kind === 'seconds' ? v.toFixed(3) : int(v));
    const cpu = median(r.clientCpu);
    const vsBase =
      kind === 'seconds'
        ? ratio(r.median / (base?.median ?? Number.NaN))
        : `${r.median - (base?.median ?? 0) >= 0 ? '+' : '-'}${int(Math.abs(r.median - (base?.median ?? 0)))}`;
    const [plo, phi] = range(r.passRatios);
    return [
      r.name,
      fmt(r.median),
      `${fmt(lo)}..${fmt(hi)}`,
      vsBase,
      `${ratio(median(r.passRatios))} (${plo.toFixed(2)}..${phi.toFixed(2)})`,
      kind === 'seconds'
        ? `${cpu.toFixed(2)}${cpu >= CLIENT_CEILING ? ' (client ceiling)' : ''}`
        : '-',
    ];
  });
  return table(
    [
      'server',
      kind === 'seconds' ? 'median s' : 'B/conn',
      'min..max',
      kind === 'seconds' ? 'ratio vs base' : 'vs base',
      'per-pass ratio (min..max)',
      'client cpu',
    ],
    rows,
  );
}
