/**
 * The unix-echo benchmark: echo round trips per second over a UNIX-domain
 * socket, a plain `node:net` UNIX echo server as the baseline against
 * Torsion's NodeReactor.listenUNIX, BunReactor.listenUNIX and the `torsion
 * echo --listen unix:PATH` runner, in the same run. Each server listens on a
 * path in a fresh temporary directory; the C client (echo-client -u PATH)
 * drives them in turn exactly as the TCP echo benchmark does (echo.ts's
 * alternatePasses), so the two tables read alike.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineProcess } from './child.js';
import { SERVER_CPU, pinned } from './cpu.js';
import { alternatePasses, type EchoOptions, type EchoServerResult } from './echo.js';
import type { RunningEchoServer } from './echo.js';
import type { ServerSpec } from './servers.js';

function compiled(file: string): string {
  return fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
}

const bun = fileURLToPath(new URL('../../../node_modules/.bin/bun', import.meta.url));
const torsionCli = fileURLToPath(
  new URL('../../../packages/runner/bin/torsion.js', import.meta.url),
);
const runnerBuilt = fileURLToPath(
  new URL('../../../packages/runner/dist/bin/torsion.js', import.meta.url),
);

function needs(...paths: string[]): () => string | null {
  return () => {
    const missing = paths.find((p) => !existsSync(p));
    return missing === undefined ? null : `${missing} is missing (build with npm run bench)`;
  };
}

/**
 * A UNIX echo server: its command without the socket path, which the
 * runner appends (for the runner, `unix:` + the path is the endpoint).
 */
export interface UNIXServerSpec extends ServerSpec {
  /** The command for `path`. */
  readonly argvFor: (path: string) => readonly string[];
}

function withPath(argv: readonly string[]): (path: string) => readonly string[] {
  return (path) => [...argv, path];
}

const netUnix = compiled('net-unix-echo.js');
const torsionUnix = compiled('torsion-unix-echo.js');
const bunUnix = compiled('bun-reactor-unix-echo.js');

/** Every UNIX echo server, baseline first. */
export const UNIX_SERVERS: readonly UNIXServerSpec[] = [
  {
    name: 'net-unix',
    description: 'node:net createServer on a UNIX path, data listener writes back',
    argv: [process.execPath, '--expose-gc', netUnix],
    argvFor: withPath([process.execPath, '--expose-gc', netUnix]),
    unavailable: needs(netUnix),
  },
  {
    name: 'torsion-unix',
    description: 'Torsion NodeReactor.listenUNIX + Echo protocol',
    argv: [process.execPath, '--expose-gc', torsionUnix],
    argvFor: withPath([process.execPath, '--expose-gc', torsionUnix]),
    unavailable: needs(torsionUnix),
  },
  {
    name: 'torsion-bun-unix',
    description: 'Torsion BunReactor.listenUNIX + Echo protocol, on Bun',
    argv: [bun, bunUnix],
    argvFor: withPath([bun, bunUnix]),
    unavailable: needs(bun, bunUnix),
  },
  {
    name: 'torsion-runner-unix',
    description: 'torsion echo --listen unix:PATH (the runner, NodeReactor)',
    argv: [process.execPath, torsionCli, 'echo'],
    argvFor: (path) => [process.execPath, torsionCli, 'echo', '--listen', `unix:${path}`],
    unavailable: needs(runnerBuilt),
  },
];

/**
 * The UNIX servers named in `names` (all that can run here when empty),
 * baseline first.
 * @throws Error for an unknown name, a left-out baseline, or a named server that cannot run.
 */
export function selectUNIXServers(names: readonly string[]): UNIXServerSpec[] {
  for (const name of names) {
    if (!UNIX_SERVERS.some((s) => s.name === name)) {
      throw new Error(
        `unknown UNIX server ${name}; known: ${UNIX_SERVERS.map((s) => s.name).join(', ')}`,
      );
    }
  }
  const baseline = UNIX_SERVERS[0];
  if (names.length > 0 && (baseline === undefined || !names.includes(baseline.name))) {
    throw new Error(`--unix-servers must include the baseline (${baseline?.name ?? 'none'})`);
  }
  const chosen =
    names.length === 0 ? [...UNIX_SERVERS] : UNIX_SERVERS.filter((s) => names.includes(s.name));
  return chosen.filter((s) => {
    const problem = s.unavailable();
    if (problem !== null && names.length > 0)
      throw new Error(`server ${s.name} cannot run: ${problem}`);
    return problem === null;
  });
}

/** Resolves once something accepts connections at `path`; rejects after `seconds`. */
async function untilListening(path: string, seconds: number, name: string): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = createConnection({ path });
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => {
        probe.destroy();
        resolve(false);
      });
    });
    if (up) return;
    if (performance.now() > deadline) throw new Error(`${name}: nothing listens on ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs the unix-echo benchmark over `servers` (baseline first): one socket
 * path per server in a fresh directory, removed afterwards.
 */
export async function runUNIXEcho(
  servers: readonly UNIXServerSpec[],
  opts: EchoOptions,
  progress: (line: string) => void,
): Promise<EchoServerResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-bench-unix-'));
  const running: RunningEchoServer[] = [];
  try {
    for (const [i, spec] of servers.entries()) {
      const path = join(dir, `s${String(i)}`);
      const proc = new LineProcess(
        spec.name,
        pinned(spec.argvFor(path), opts.pin ? SERVER_CPU : null),
      );
      running.push({ name: spec.name, proc, target: ['-u', path] });
      // Whether or not it speaks control.ts (the runner does not), it is up once it accepts.
      await untilListening(path, 30, spec.name);
    }
    return await alternatePasses('unix-echo', running, opts, progress);
  } finally {
    await Promise.all(running.map(({ proc }) => proc.stop(2)));
    rmSync(dir, { recursive: true, force: true });
  }
}
