/**
 * The line-server comparison: 64-byte lines, pipelined (each round trip of
 * the C client is a batch of lines, `echo-client -L`), against a line echo
 * over TCP: the baseline is `node:net` + `node:readline`
 * (servers/net-readline-echo.ts); Torsion's is the operator's command,
 * `torsion echo --lines` (a `LineReceiver`); the hand-split `net` line echo
 * of the tiny-writes benchmark runs too. Same passes, quiet-machine checks
 * and table as the echo benchmark; lines/s = round trips/s × lines per batch.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from './connections.js';
import {
  alternatePasses,
  type EchoOptions,
  type EchoServerResult,
  type RunningEchoServer,
} from './echo.js';
import type { ServerSpec } from './servers.js';

const compiled = (file: string): string =>
  fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
const readlineEcho = compiled('net-readline-echo.js');
const netLineEcho = compiled('net-line-echo.js');
const torsionCli = fileURLToPath(
  new URL('../../../packages/runner/dist/bin/torsion.js', import.meta.url),
);

function needs(path: string): () => string | null {
  return () => (existsSync(path) ? null : `${path} is missing (build with npm run bench)`);
}

/** The line servers, baseline first; each takes its port as an argument. */
export const LINE_SERVERS: readonly ServerSpec[] = [
  {
    name: 'net-readline',
    description: 'node:net + node:readline, each line written back',
    argv: [process.execPath, readlineEcho],
    argvForPort: (port) => [process.execPath, readlineEcho, String(port)],
    unavailable: needs(readlineEcho),
  },
  {
    name: 'torsion-cli-lines',
    description: 'torsion echo --lines (LineReceiver over TCP)',
    argv: [process.execPath, torsionCli, 'echo', '--lines'],
    argvForPort: (port) => [
      process.execPath,
      torsionCli,
      'echo',
      '--lines',
      '--listen',
      `tcp:${String(port)}:interface=127.0.0.1`,
      '--log-level',
      'warn',
    ],
    unavailable: needs(torsionCli),
  },
  {
    name: 'net-split',
    description: 'node:net, lines split by hand (indexOf CRLF)',
    argv: [process.execPath, netLineEcho],
    argvForPort: (port) => [process.execPath, netLineEcho, String(port)],
    unavailable: needs(netLineEcho),
  },
];

/** Bytes per line; the client's batch is `lines` of them. */
export const LINE_BYTES = 64;

/**
 * Runs the comparison with batches of `lines` lines (`opts.size` is ignored).
 * `progress` receives a line per pass.
 */
export async function runLineServers(
  lines: number,
  opts: EchoOptions,
  progress: (line: string) => void,
): Promise<EchoServerResult[]> {
  const running: RunningEchoServer[] = [];
  const batch = { ...opts, size: lines * LINE_BYTES };
  try {
    for (const spec of LINE_SERVERS) {
      const problem = spec.unavailable();
      if (problem !== null) throw new Error(`${spec.name} cannot run: ${problem}`);
      const { proc, port } = await startServer(spec, opts.pin);
      running.push({ name: spec.name, proc, target: ['-p', String(port), '-L'] });
    }
    return await alternatePasses('line-server', running, batch, progress);
  } finally {
    await Promise.all(running.map(({ proc }) => proc.stop()));
  }
}
