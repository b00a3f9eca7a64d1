/**
 * The servers a benchmark compares. The first entry is the baseline every
 * ratio is taken against. Each server is a separate process speaking the stdio
 * protocol of servers/control.ts, so another runtime (issue 5's Bun reactor)
 * joins as a third column by adding one entry here: a name and the command
 * that starts it.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One server under test. */
export interface ServerSpec {
  /** Column name in the report. */
  readonly name: string;
  /** What it is, one line, for the report header. */
  readonly description: string;
  /** The command that starts it (without CPU pinning, which the runner adds). */
  readonly argv: readonly string[];
  /** Why it cannot run here, or null when it can (e.g. a runtime not installed). */
  readonly unavailable: () => string | null;
  /**
   * For a server that takes its port as an argument and does not speak the
   * stdio protocol (the `torsion` command): its command for `port`. The
   * runner picks a free port and waits until the server accepts; benchmarks
   * that need `count`/`stats` (memory) skip it.
   */
  readonly argvForPort?: (port: number) => readonly string[];
}

function compiled(file: string): string {
  // bench/dist/lib/servers.js -> bench/dist/servers/<file>
  return fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
}

function needsFile(path: string): () => string | null {
  return () => (existsSync(path) ? null : `${path} is missing (build with npm run bench)`);
}

const netEcho = compiled('net-echo.js');
// The operator's command, built by tsc -b (npm run bench builds it first).
const torsionCli = fileURLToPath(
  new URL('../../../packages/runner/dist/bin/torsion.js', import.meta.url),
);
const torsionEcho = compiled('torsion-echo.js');
const bunReactorEcho = compiled('bun-reactor-echo.js');
const bunEcho = compiled('bun-echo.js');
// Bun is a root devDependency: the npm package's binary, not a system install.
const bun = fileURLToPath(new URL('../../../node_modules/.bin/bun', import.meta.url));

function needsBun(path: string): () => string | null {
  return () => (existsSync(bun) ? needsFile(path)() : `${bun} is missing (npm ci installs it)`);
}

/** Every known server, baseline first. */
export const SERVERS: readonly ServerSpec[] = [
  {
    name: 'net',
    description: 'node:net createServer, data listener writes back',
    argv: [process.execPath, '--expose-gc', netEcho],
    unavailable: needsFile(netEcho),
  },
  {
    name: 'torsion',
    description: 'Torsion NodeReactor + Echo protocol (dataReceived -> transport.write)',
    argv: [process.execPath, '--expose-gc', torsionEcho],
    unavailable: needsFile(torsionEcho),
  },
  {
    name: 'torsion-cli',
    description: 'the torsion command: torsion echo --listen tcp:PORT:interface=127.0.0.1',
    argv: [process.execPath, torsionCli, 'echo'],
    argvForPort: (port) => [
      process.execPath,
      torsionCli,
      'echo',
      '--listen',
      `tcp:${String(port)}:interface=127.0.0.1`,
      '--log-level',
      'warn',
    ],
    unavailable: needsFile(torsionCli),
  },
  {
    name: 'torsion-bun',
    description: 'Torsion BunReactor + Echo protocol, on Bun',
    argv: [bun, bunReactorEcho],
    unavailable: needsBun(bunReactorEcho),
  },
  {
    name: 'bun',
    description: 'bare Bun.listen echo (reference)',
    argv: [bun, bunEcho],
    unavailable: needsBun(bunEcho),
  },
];

/**
 * The servers named in `names` (all of them when empty), baseline first.
 * @throws Error for an unknown name or when the baseline is left out.
 */
export function selectServers(names: readonly string[]): ServerSpec[] {
  if (names.length === 0) return [...SERVERS];
  for (const name of names) {
    if (!SERVERS.some((s) => s.name === name)) {
      throw new Error(`unknown server ${name}; known: ${SERVERS.map((s) => s.name).join(', ')}`);
    }
  }
  const baseline = SERVERS[0];
  if (baseline === undefined || !names.includes(baseline.name)) {
    throw new Error(`--servers must include the baseline (${baseline?.name ?? 'none'})`);
  }
  return SERVERS.filter((s) => names.includes(s.name));
}
