/**
 * Benchmark 2: memory per idle connection. For each server in turn (a fresh
 * process every time): measure after a forced GC, let the C client open N idle
 * connections, wait until the server has accepted all of them, measure again
 * after a forced GC, and divide the growth by N. Passes alternate between the
 * servers and the medians are compared.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { CLIENT_CPU, SERVER_CPU, pinned } from './cpu.js';
import { LineProcess } from './child.js';
import type { ServerSpec } from './servers.js';
import { int, median, range, table } from './stats.js';

/** Settings for the memory benchmark. */
export interface MemoryOptions {
  /** Passes per server (each with fresh processes). */
  readonly passes: number;
  /** Idle connections per pass. */
  readonly connections: number;
  readonly pin: boolean;
  /** Path of the built C client. */
  readonly client: string;
}

/** One server's results, in bytes per connection. */
export interface MemoryServerResult {
  readonly name: string;
  /** Growth of resident set size per connection, one per pass. */
  readonly rss: number[];
  /** Growth of V8 heap used + external memory per connection, one per pass. */
  readonly js: number[];
  readonly rssMedian: number;
  readonly jsMedian: number;
  /** rssMedian minus the baseline's (0 for the baseline). */
  readonly rssVsBaseline: number;
  /** jsMedian minus the baseline's (0 for the baseline). */
  readonly jsVsBaseline: number;
}

interface Stats {
  connections: number;
  rss: number;
  heapUsed: number;
  external: number;
  gc: boolean;
}

async function stats(server: LineProcess): Promise<Stats> {
  server.send('stats');
  const answer = await server.nextJson(30);
  if (answer.gc !== true) throw new Error(`${server.name}: GC could not be forced (--expose-gc?)`);
  return answer as unknown as Stats;
}

async function waitForConnections(
  server: LineProcess,
  wanted: number,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let seen = -1;
  while (Date.now() < deadline) {
    server.send('count');
    seen = Number((await server.nextJson(30)).connections);
    if (seen === wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${server.name}: holds ${seen} of ${wanted} connections after ${timeoutSeconds} s`,
  );
}

async function onePass(
  spec: ServerSpec,
  opts: MemoryOptions,
): Promise<{ rss: number; js: number }> {
  const server = new LineProcess(spec.name, pinned(spec.argv, opts.pin ? SERVER_CPU : null));
  let client: LineProcess | null = null;
  try {
    const port = Number(await server.nextLine(30));
    const before = await stats(server);
    const argv = [
      opts.client,
      '-i',
      '-p',
      String(port),
      '-c',
      String(opts.connections),
      '-t',
      '300',
    ];
    client = new LineProcess('echo-client', pinned(argv, opts.pin ? CLIENT_CPU : null));
    const connected = await client.nextJson(120);
    if (connected.connected !== opts.connections) {
      throw new Error(`echo-client: ${JSON.stringify(connected)}\n${client.stderr}`);
    }
    await waitForConnections(server, opts.connections, 60);
    const after = await stats(server);
    const n = opts.connections;
    return {
      rss: (after.rss - before.rss) / n,
      js: (after.heapUsed + after.external - (before.heapUsed + before.external)) / n,
    };
  } finally {
    // Server first: its side of every connection closes when it exits, so the
    // client's close afterwards finds nothing left to do.
    await server.stop();
    if (client !== null) await client.stop();
  }
}

/**
 * Runs the memory benchmark over `servers` (baseline first).
 * `progress` receives a line per pass.
 */
export async function runMemory(
  servers: readonly ServerSpec[],
  opts: MemoryOptions,
  progress: (line: string) => void,
): Promise<MemoryServerResult[]> {
  // A server without the stdio protocol cannot report its heap; idle-rss measures it.
  for (const s of servers.filter((spec) => spec.argvForPort !== undefined)) {
    progress(`memory: ${s.name} skipped (no stats protocol; see idle-rss)`);
  }
  servers = servers.filter((spec) => spec.argvForPort === undefined);
  const samples = new Map<string, { rss: number[]; js: number[] }>(
    servers.map((s) => [s.name, { rss: [], js: [] }]),
  );
  for (let pass = 1; pass <= opts.passes; pass++) {
    for (const spec of servers) {
      const result = await onePass(spec, opts);
      progress(
        `memory pass ${pass}/${opts.passes} ${spec.name}: ${int(result.rss)} B rss, ` +
          `${int(result.js)} B heap+external per connection`,
      );
      const entry = samples.get(spec.name);
      entry?.rss.push(result.rss);
      entry?.js.push(result.js);
    }
  }
  const results = servers.map((spec) => {
    const entry = samples.get(spec.name) ?? { rss: [], js: [] };
    return { name: spec.name, ...entry, rssMedian: median(entry.rss), jsMedian: median(entry.js) };
  });
  const base = results[0];
  return results.map((r) => ({
    ...r,
    rssVsBaseline: r.rssMedian - (base?.rssMedian ?? Number.NaN),
    jsVsBaseline: r.jsMedian - (base?.jsMedian ?? Number.NaN),
  }));
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? '+' : '-'}${int(Math.abs(bytes))}`;
}

/** The report table for {@link runMemory}'s results. */
export function memoryTable(results: readonly MemoryServerResult[]): string {
  const base = results[0]?.name ?? '';
  return table(
    ['server', 'rss B/conn', 'min..max', `vs ${base}`, 'heap+ext B/conn', 'min..max', `vs ${base}`],
    results.map((r) => {
      const [rlo, rhi] = range(r.rss);
      const [jlo, jhi] = range(r.js);
      return [
        r.name,
        int(r.rssMedian),
        `${int(rlo)}..${int(rhi)}`,
        signed(r.rssVsBaseline),
        int(r.jsMedian),
        `${int(jlo)}..${int(jhi)}`,
        signed(r.jsVsBaseline),
      ];
    }),
  );
}
