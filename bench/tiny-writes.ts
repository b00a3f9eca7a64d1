// Benchmark: what a line-echo server holds while hostile peers send it empty
// lines and never read the echoes (issue #9, item 4), measured as an operator
// sees it: the `torsion echo --lines` command on the Node and the Bun reactor,
// against a plain `net` line echo (the baseline) and, where python3-twisted is
// installed, Twisted's LineReceiver echo, all in the same run. Each peer
// sends the same traffic (BYTES of "\r\n", with a 4 KiB receive buffer so the
// server's output backs up at once; bench/never-read-client.c), then the
// runner waits until the server is idle and reads its resident set size
// (VmRSS, no forced GC). A pass does this with 8 peers and with 32 peers, each
// on a fresh server: the cost per connection is the slope between the two,
// (RSS growth at 32 - RSS growth at 8) / 24, the same method as the idle
// memory benchmark, so that what a process pays once (a garbage collector
// that runs later with more memory in use) is not divided among connections.
// The growth at 32 is reported too. Servers alternate, median of PASSES.
// Run: `npx tsx bench/tiny-writes.ts` (needs gcc, Linux /proc). The last line
// of output is one JSON object for bench/run.ts; ratio is the baseline's cost
// per connection / this server's (>= 1: Torsion holds less).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './lib/cpu.js';
import { median } from './lib/stats.js';

const FEW = 8;
const MANY = 32;
const BYTES = 4 * 1024 * 1024;
const SEND_SECONDS = 20;
const PASSES = Number(process.env.TINY_WRITES_PASSES ?? 3);

const root = fileURLToPath(new URL('../', import.meta.url));
const client = `${root}bench/bin/never-read-client`;
const bun = `${root}node_modules/.bin/bun`;
const torsion = `${root}packages/runner/dist/bin/torsion.js`;

interface Server {
  readonly name: string;
  readonly argv: (port: number) => string[];
  readonly unavailable: () => string | null;
}

function twistedPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import twisted.protocols.basic'], { stdio: 'ignore' });
      return python;
    } catch {
      // Not this one.
    }
  }
  return null;
}

const TWISTED_ECHO = `
import sys
from twisted.internet import reactor, protocol
from twisted.protocols.basic import LineReceiver
class Echo(LineReceiver):
    def lineReceived(self, line):
        self.sendLine(line)
factory = protocol.Factory()
factory.protocol = Echo
reactor.listenTCP(int(sys.argv[1]), factory, interface='127.0.0.1')
reactor.run()
`;

const python = twistedPython();
const listen = (port: number): string[] => [
  'echo',
  '--lines',
  '--listen',
  `tcp:${String(port)}:interface=127.0.0.1`,
];

const SERVERS: Server[] = [
  {
    name: 'net',
    argv: (port) => [
      process.execPath,
      '--import',
      'tsx',
      `${root}bench/servers/net-line-echo.ts`,
      String(port),
    ],
    unavailable: () => null,
  },
  {
    name: 'torsion',
    argv: (port) => [process.execPath, torsion, ...listen(port)],
    unavailable: () => (existsSync(torsion) ? null : `${torsion} is missing (npm run build)`),
  },
  {
    name: 'torsion-bun',
    argv: (port) => [bun, torsion, '--reactor', 'bun', ...listen(port)],
    unavailable: () => (existsSync(bun) ? null : 'bun is missing (npm ci installs it)'),
  },
  {
    name: 'twisted',
    argv: (port) => [python ?? 'python3', '-c', TWISTED_ECHO, String(port)],
    unavailable: () => (python === null ? 'python3-twisted is not installed' : null),
  },
];

function buildClient(): void {
  const source = `${root}bench/never-read-client.c`;
  if (existsSync(client) && statSync(client).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(`${root}bench/bin`, { recursive: true });
  execFileSync('gcc', ['-O2', '-o', client, source], { stdio: 'inherit' });
}

function status(pid: number, field: string): number {
  const text = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (match?.[1] === undefined) throw new Error(`no ${field} for ${String(pid)}`);
  return Number(match[1]) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Connects until something accepts on `port` (the server is up), for at most 20 s. */
async function waitForPort(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${String(proc.exitCode)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${String(port)} after 20 s`);
}

/** Waits until `pid` used under 2% of a core for a whole second (at most `seconds`). */
async function waitIdle(pid: number, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await sleep(1000);
    const now = cpuSeconds(pid);
    if (now - last < 0.02) return;
    last = now;
  }
}

interface Run {
  /** RSS growth, bytes. */
  readonly growth: number;
  /** Bytes each connection sent. */
  readonly sent: number;
}

async function run(server: Server, connections: number): Promise<Run> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const [command, ...args] = server.argv(port);
  const proc = spawn(command ?? '', args, { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await waitForPort(port, proc);
    await sleep(500);
    const pid = proc.pid ?? 0;
    const before = status(pid, 'VmRSS');
    const peer = spawn(
      client,
      [String(port), String(connections), String(SEND_SECONDS), String(BYTES)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: peer.stdout }).once('line', resolve);
      peer.once('exit', (code) => {
        reject(new Error(`client exited with ${String(code)}`));
      });
    });
    await waitIdle(pid, 60);
    const after = status(pid, 'VmRSS');
    peer.stdin.end();
    const { sent } = JSON.parse(line) as { sent: number };
    return { growth: after - before, sent: sent / connections };
  } finally {
    proc.kill('SIGKILL');
  }
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

buildClient();
const only = process.env.TINY_WRITES_SERVERS?.split(',');
const servers = SERVERS.filter((s) => {
  if (only !== undefined && !only.includes(s.name)) return false;
  const why = s.unavailable();
  if (why !== null) process.stdout.write(`skipping ${s.name}: ${why}\n`);
  return why === null;
});
interface Pass {
  readonly perConnection: number;
  readonly growthAtMany: number;
  readonly sent: number;
}

const results = new Map<string, Pass[]>(servers.map((s) => [s.name, []]));
for (let i = 0; i < PASSES; i++) {
  for (const server of servers) {
    const few = await run(server, FEW);
    const many = await run(server, MANY);
    const r: Pass = {
      perConnection: (many.growth - few.growth) / (MANY - FEW),
      growthAtMany: many.growth,
      sent: many.sent,
    };
    results.get(server.name)?.push(r);
    process.stdout.write(
      `pass ${String(i + 1)} ${server.name}: ${kib(r.perConnection)}/connection (RSS +${kib(few.growth)} with ${String(FEW)}, +${kib(many.growth)} with ${String(MANY)}), ${kib(r.sent)} sent/connection\n`,
    );
  }
}
const summary = servers.map((s) => {
  const passes = results.get(s.name) ?? [];
  return {
    name: s.name,
    perConnectionKiB: Math.round(median(passes.map((p) => p.perConnection)) / 1024),
    growthAt32KiB: Math.round(median(passes.map((p) => p.growthAtMany)) / 1024),
    sentPerConnectionKiB: Math.round(median(passes.map((p) => p.sent)) / 1024),
  };
});
const baseline = summary[0]?.perConnectionKiB ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({
    bench: 'tinyWrites',
    results: summary.map((s) => ({ ...s, ratio: baseline / Math.max(1, s.perConnectionKiB) })),
  })}\n`,
);
