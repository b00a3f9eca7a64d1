/**
 * How cost grows with load: for each server, echo round trips per second
 * with 10, 100 and 1,000 active connections (1 KiB messages), and resident
 * memory with 1,000, 5,000 and 10,000 idle connections (VmRSS once the
 * server is idle, no forced GC). One fresh server process per server and
 * measurement series; medians over `passes`. `scalingSvg` draws both as an
 * SVG (written by the runner to docs/performance-scaling.svg with
 * `--write-plot`), from these results only.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { readFileSync } from 'node:fs';
import { LineProcess } from './child.js';
import { startServer } from './connections.js';
import { CLIENT_CPU, pinned } from './cpu.js';
import { clientPass } from './echo.js';
import type { ServerSpec } from './servers.js';
import { median } from './stats.js';

/** Settings for the scaling benchmark. */
export interface ScalingOptions {
  readonly passes: number;
  readonly duration: number;
  readonly pin: boolean;
  readonly client: string;
  /** Active connection counts for the throughput series. */
  readonly active: readonly number[];
  /** Idle connection counts for the memory series (ascending). */
  readonly idle: readonly number[];
}

/** One server's two series. */
export interface ScalingResult {
  readonly name: string;
  /** [connections, median round trips/s]. */
  readonly throughput: [number, number][];
  /** [connections, median RSS in bytes]. */
  readonly rss: [number, number][];
}

function rssBytes(pid: number | undefined): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
}

/** Runs both series for every server; `progress` receives a line per measurement. */
export async function runScaling(
  servers: readonly ServerSpec[],
  opts: ScalingOptions,
  progress: (line: string) => void,
): Promise<ScalingResult[]> {
  const results: ScalingResult[] = [];
  for (const spec of servers) {
    const rates = new Map<number, number[]>(opts.active.map((n) => [n, []]));
    const rss = new Map<number, number[]>(opts.idle.map((n) => [n, []]));
    for (let pass = 1; pass <= opts.passes; pass++) {
      const { proc, port } = await startServer(spec, opts.pin);
      try {
        for (const n of opts.active) {
          const argv = [opts.client, '-p', String(port), '-c', String(n), '-s', '1024'];
          argv.push('-w', '1', '-d', String(opts.duration));
          const result = await clientPass(
            proc.pid,
            'echo-client',
            argv,
            opts.pin,
            opts.duration + 60,
          );
          progress(
            `scaling ${spec.name} pass ${pass}: ${n} active, ${Math.round(result.rate)} rt/s`,
          );
          rates.get(n)?.push(result.rate);
        }
        const clients: LineProcess[] = [];
        try {
          let open = 0;
          for (const n of opts.idle) {
            const argv = [
              opts.client,
              '-i',
              '-p',
              String(port),
              '-c',
              String(n - open),
              '-t',
              '300',
            ];
            const client = new LineProcess(
              'echo-client',
              pinned(argv, opts.pin ? CLIENT_CPU : null),
            );
            clients.push(client);
            await client.nextJson(120);
            open = n;
            await settle();
            const bytes = rssBytes(proc.pid);
            progress(
              `scaling ${spec.name} pass ${pass}: ${n} idle, RSS ${Math.round(bytes / 1024)} KiB`,
            );
            rss.get(n)?.push(bytes);
          }
        } finally {
          await Promise.all(clients.map((c) => c.stop()));
        }
      } finally {
        await proc.stop();
      }
    }
    results.push({
      name: spec.name,
      throughput: opts.active.map((n) => [n, median(rates.get(n) ?? [])]),
      rss: opts.idle.map((n) => [n, median(rss.get(n) ?? [])]),
    });
  }
  return results;
}

const COLORS = ['#444444', '#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One panel: lines of `series` on a log x axis from 0 up to the largest y. */
function panel(
  x0: number,
  title: string,
  yLabel: string,
  results: readonly ScalingResult[],
  pick: (r: ScalingResult) => [number, number][],
  yUnit: (v: number) => string,
): string {
  const w = 380;
  const h = 240;
  const left = x0 + 60;
  const top = 40;
  const all = results.flatMap((r) => pick(r));
  const xs = all.map(([x]) => Math.log10(x));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = Math.max(...all.map(([, y]) => y)) * 1.1 || 1;
  const px = (x: number): number =>
    left + (xMax === xMin ? w / 2 : ((Math.log10(x) - xMin) / (xMax - xMin)) * w);
  const py = (y: number): number => top + h - (y / yMax) * h;
  const out: string[] = [
    `<text x="${left + w / 2}" y="20" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
    `<line x1="${left}" y1="${top + h}" x2="${left + w}" y2="${top + h}" stroke="#000"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + h}" stroke="#000"/>`,
    `<text x="${left + w / 2}" y="${top + h + 36}" text-anchor="middle">connections (log scale)</text>`,
    `<text x="${x0 + 14}" y="${top + h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${top + h / 2})">${escape(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 4) * i;
    out.push(
      `<text x="${left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${escape(yUnit(y))}</text>`,
      `<line x1="${left}" y1="${py(y)}" x2="${left + w}" y2="${py(y)}" stroke="#ddd"/>`,
    );
  }
  for (const x of [...new Set(all.map(([n]) => n))]) {
    out.push(
      `<text x="${px(x)}" y="${top + h + 16}" text-anchor="middle" font-size="11">${x.toLocaleString('en-US')}</text>`,
    );
  }
  results.forEach((r, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const points = pick(r).filter(([, y]) => Number.isFinite(y));
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points
        .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
        .join(' ')}"/>`,
      ...points.map(
        ([x, y]) =>
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`,
      ),
    );
  });
  return out.join('\n');
}

/** The SVG text of both series: throughput (left) and memory (right), a legend below. */
export function scalingSvg(results: readonly ScalingResult[], caption: string): string {
  const legend = results
    .map((r, i) => {
      const x = 70 + i * 150;
      const color = COLORS[i % COLORS.length] ?? '#000';
      return (
        `<rect x="${x}" y="336" width="14" height="4" fill="${color}"/>` +
        `<text x="${x + 20}" y="342">${escape(r.name)}</text>`
      );
    })
    .join('\n');
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="380" font-family="sans-serif" font-size="13">',
    '<rect width="900" height="380" fill="#fff"/>',
    panel(
      0,
      'Echo round trips per second (1 KiB)',
      'round trips/s',
      results,
      (r) => r.throughput,
      (v) => Math.round(v).toLocaleString('en-US'),
    ),
    panel(
      450,
      'Resident memory with idle connections',
      'RSS (MiB)',
      results,
      (r) => r.rss,
      (v) => (v / 2 ** 20).toFixed(0),
    ),
    legend,
    `<text x="450" y="370" text-anchor="middle" font-size="11" fill="#555">${escape(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
