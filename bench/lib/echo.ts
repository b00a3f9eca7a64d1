/**
 * Benchmark 1: echo round trips per second. Every server under test runs as
 * its own process pinned to one core; the C client (bench/echo-client.c),
 * pinned to the other, runs ping-pong over N connections against each server
 * in turn. One warm-up pass per server is discarded, then the servers
 * alternate (a, b, a, b…) for the measured passes and the medians are compared.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { CLIENT_CPU, cpuSeconds, pinned, systemBusySeconds, waitForQuiet } from './cpu.js';
import { LineProcess } from './child.js';
import type { ServerSpec } from './servers.js';
import { startServer } from './connections.js';
import { int, median, range, ratio, table } from './stats.js';

/** Settings for the echo benchmark. */
export interface EchoOptions {
  /** Measured passes per server (the warm-up pass comes on top). */
  readonly passes: number;
  /** Seconds measured per pass. */
  readonly duration: number;
  /** Seconds of uncounted traffic at the start of every pass (connections up, JIT warm). */
  readonly warmup: number;
  readonly connections: number;
  /** Message size in bytes. */
  readonly size: number;
  readonly pin: boolean;
  /** Let the client spin instead of sleeping in epoll_wait (see echo-client.c, -b). */
  readonly busyPoll: boolean;
  /** Path of the built C client. */
  readonly client: string;
  /**
   * Before each pass, wait up to this many seconds for the machine to be
   * quiet (other work below {@link QUIET_CORES} cores); 0 to start at once.
   */
  readonly quietWait: number;
}

/** Machine load, in cores, under which a pass may start (see EchoOptions.quietWait). */
export const QUIET_CORES = 0.2;

/** One server's results. */
export interface EchoServerResult {
  readonly name: string;
  /** Round trips per second, one per measured pass, in pass order. */
  readonly rates: number[];
  readonly median: number;
  /** Ratio of this server's median to the baseline's (1 for the baseline). */
  readonly ratio: number;
  /** Server CPU seconds per wall second during each pass (1.0 = one core saturated). */
  readonly serverCpu: number[];
  /** Client CPU seconds per wall second during each pass. */
  readonly clientCpu: number[];
  /**
   * CPU used by everything else on the machine during each pass, in cores
   * (0 on a quiet machine). High values mean other work competed with the benchmark.
   */
  readonly otherCpu: number[];
  /**
   * Server CPU microseconds per round trip, one per pass. Less sensitive to
   * other work on the machine than the rate: it counts only the server's own time.
   */
  readonly usPerTrip: number[];
  /** Median of {@link EchoServerResult.usPerTrip}. */
  readonly usPerTripMedian: number;
  /** The baseline's median µs per round trip over this server's (>= 1: as cheap or cheaper). */
  readonly cpuRatio: number;
  /**
   * Per pass, this server's rate over the baseline's rate in the same pass
   * (seconds apart): less affected by slow drift than the ratio of medians.
   */
  readonly passRatios: number[];
}

/** What one pass of a rate benchmark measured. */
export interface PassResult {
  /** Operations (round trips, handshakes) per second, as the client counted them. */
  rate: number;
  serverCpu: number;
  clientCpu: number;
  otherCpu: number;
}

/**
 * Runs a load generator that prints one JSON line with `rate` and
 * `client_cpu` (echo-client.c, tls-echo-client.c) against the server whose
 * process id is `serverPid`, and measures the server's and the rest of the
 * machine's CPU use around it.
 * @param timeoutSeconds - how long the client may take to answer.
 */
export async function clientPass(
  serverPid: number | undefined,
  name: string,
  argv: readonly string[],
  pin: boolean,
  timeoutSeconds: number,
): Promise<PassResult> {
  const client = new LineProcess(name, pinned(argv, pin ? CLIENT_CPU : null));
  // Sampled around the whole client run, warm-up included: the load is the
  // same throughout, so the rate is too.
  const cpuBefore = cpuSeconds(serverPid);
  const busyBefore = systemBusySeconds();
  const wallBefore = performance.now();
  const result = await client.nextJson(timeoutSeconds);
  const cpuAfter = cpuSeconds(serverPid);
  const busyAfter = systemBusySeconds();
  const wall = (performance.now() - wallBefore) / 1000;
  const code = await client.exited();
  if (code !== 0) throw new Error(`${name} exited with ${String(code)}\n${client.stderr}`);
  const rate = Number(result.rate);
  if (!(rate > 0)) throw new Error(`${name} reported nothing done: ${JSON.stringify(result)}`);
  const serverCpu = (cpuAfter - cpuBefore) / wall;
  const clientCpu = Number(result.client_cpu);
  const otherCpu = Math.max(0, (busyAfter - busyBefore) / wall - serverCpu - clientCpu);
  return { rate, serverCpu, clientCpu, otherCpu };
}

/**
 * One echo pass against `server`, which the client reaches with `target`:
 * `['-p', PORT]` (TCP on 127.0.0.1) or `['-u', PATH]` (a UNIX socket).
 */
function onePass(
  server: LineProcess,
  target: readonly string[],
  opts: EchoOptions,
): Promise<PassResult> {
  const argv = [
    opts.client,
    ...target,
    '-c',
    String(opts.connections),
    '-s',
    String(opts.size),
    '-w',
    String(opts.warmup),
    '-d',
    String(opts.duration),
    ...(opts.busyPoll ? ['-b'] : []),
  ];
  return clientPass(server.pid, 'echo-client', argv, opts.pin, opts.warmup + opts.duration + 30);
}

/** Passes disturbed by other work are measured again, at most this many times. */
const MAX_RETRIES = 3;

/**
 * One pass (`measure`), started on a quiet machine when `quietWait` (seconds)
 * allows, and repeated (up to MAX_RETRIES times) while other work took more
 * than QUIET_CORES during it.
 * @param name - the server's name, for progress lines.
 */
export async function quietPass(
  name: string,
  measure: () => Promise<PassResult>,
  quietWait: number,
  progress: (line: string) => void,
): Promise<PassResult> {
  for (let attempt = 0; ; attempt++) {
    if (quietWait > 0) {
      const load = await waitForQuiet(quietWait, QUIET_CORES);
      if (load >= QUIET_CORES) {
        progress(
          `machine still busy (${load.toFixed(2)} cores) after ${quietWait} s; measuring anyway`,
        );
      }
    }
    const result = await measure();
    if (quietWait === 0 || result.otherCpu < QUIET_CORES || attempt === MAX_RETRIES) {
      return result;
    }
    progress(
      `${name}: other work took ${result.otherCpu.toFixed(2)} cores during the pass ` +
        `(${int(result.rate)}/s); measuring it again`,
    );
  }
}

/**
 * Medians and ratios from each server's measured passes, baseline (the
 * first name) first.
 */
export function summarize(
  names: readonly string[],
  passes: ReadonlyMap<string, readonly PassResult[]>,
): EchoServerResult[] {
  const results = names.map((name) => {
    const list = passes.get(name) ?? [];
    return {
      name,
      rates: list.map((p) => p.rate),
      median: median(list.map((p) => p.rate)),
      ratio: 1,
      serverCpu: list.map((p) => p.serverCpu),
      clientCpu: list.map((p) => p.clientCpu),
      otherCpu: list.map((p) => p.otherCpu),
      usPerTrip: list.map((p) => (p.serverCpu / p.rate) * 1e6),
    };
  });
  const baseline = results[0];
  const baseRates = baseline?.rates ?? [];
  const baseRate = baseline?.median ?? Number.NaN;
  const baseUs = baseline === undefined ? Number.NaN : median(baseline.usPerTrip);
  return results.map((r) => {
    const usPerTripMedian = median(r.usPerTrip);
    return {
      ...r,
      ratio: r.median / baseRate,
      usPerTripMedian,
      cpuRatio: baseUs / usPerTripMedian,
      passRatios: r.rates.map((rate, i) => rate / (baseRates[i] ?? Number.NaN)),
    };
  });
}

/** A started echo server and how the client reaches it (`-p PORT` or `-u PATH`). */
export interface RunningEchoServer {
  readonly name: string;
  readonly proc: LineProcess;
  readonly target: readonly string[];
}

/**
 * The passes of an echo benchmark: one warm-up pass per server (discarded),
 * then the servers alternate (a, b, a, b…) for the measured passes; medians
 * and ratios against the first (the baseline).
 * @param label - what the progress lines call the benchmark.
 */
export async function alternatePasses(
  label: string,
  running: readonly RunningEchoServer[],
  opts: EchoOptions,
  progress: (line: string) => void,
): Promise<EchoServerResult[]> {
  const passes = new Map<string, PassResult[]>(running.map((s) => [s.name, []]));
  for (let pass = 0; pass <= opts.passes; pass++) {
    for (const { name, proc, target } of running) {
      const result = await quietPass(
        name,
        () => onePass(proc, target, opts),
        opts.quietWait,
        progress,
      );
      const which = pass === 0 ? 'warm-up (discarded)' : `pass ${pass}/${opts.passes}`;
      progress(
        `${label} ${which} ${name}: ${int(result.rate)} round trips/s ` +
          `(cpu: server ${result.serverCpu.toFixed(2)}, client ${result.clientCpu.toFixed(2)}, ` +
          `other ${result.otherCpu.toFixed(2)})`,
      );
      if (pass > 0) passes.get(name)?.push(result);
    }
  }
  return summarize(
    running.map((s) => s.name),
    passes,
  );
}

/**
 * Runs the echo benchmark over `servers` (baseline first) and returns one
 * result per server. `progress` receives a line per pass.
 */
export async function runEcho(
  servers: readonly ServerSpec[],
  opts: EchoOptions,
  progress: (line: string) => void,
): Promise<EchoServerResult[]> {
  const running: RunningEchoServer[] = [];
  try {
    for (const spec of servers) {
      const { proc, port } = await startServer(spec, opts.pin);
      running.push({ name: spec.name, proc, target: ['-p', String(port)] });
    }
    return await alternatePasses('echo', running, opts, progress);
  } finally {
    await Promise.all(running.map(({ proc }) => proc.stop()));
  }
}

/**
 * The report table for {@link runEcho}'s results (and the TLS rate
 * benchmarks', with `unit` 'hs' for handshakes).
 */
export function echoTable(results: readonly EchoServerResult[], unit = 'rt'): string {
  return table(
    [
      'server',
      `median ${unit}/s`,
      `min..max ${unit}/s`,
      `ratio vs ${results[0]?.name ?? ''}`,
      'per-pass ratio (min..max)',
      'server cpu',
      'client cpu',
      'other cpu',
      `server us/${unit}`,
      'cpu ratio',
    ],
    results.map((r) => {
      const [lo, hi] = range(r.rates);
      const [plo, phi] = range(r.passRatios);
      return [
        r.name,
        int(r.median),
        `${int(lo)}..${int(hi)}`,
        ratio(r.ratio),
        `${ratio(median(r.passRatios))} (${plo.toFixed(2)}..${phi.toFixed(2)})`,
        median(r.serverCpu).toFixed(2),
        median(r.clientCpu).toFixed(2),
        median(r.otherCpu).toFixed(2),
        r.usPerTripMedian.toFixed(1),
        ratio(r.cpuRatio),
      ];
    }),
  );
}
