// Benchmark: UDP echo datagrams per second, Torsion's `DatagramEcho` on a
// NodeReactor against a plain `node:dgram` echo (the baseline) and, where
// Bun is installed, the same protocol on a BunReactor, all in the same run.
// Each server runs alone on the server core; the C client
// (bench/udp-echo-client.c, on the other core) keeps WINDOW datagrams of SIZE
// bytes in flight on loopback and counts the replies for DURATION seconds
// after a warm-up. Servers alternate pass by pass; the median of PASSES
// counts. ratio = this server's datagrams/s / dgram's (target >= 0.95 for
// Torsion on Node).
// Run: `npx tsx bench/udp-echo.ts` (needs gcc, Linux). Environment:
// UDP_ECHO_PASSES (default 5), UDP_ECHO_SECONDS (default 5), UDP_ECHO_WINDOW
// (default 32), UDP_ECHO_SIZE (default 64). The last line of output is one
// JSON object for bench/run.ts.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { CLIENT_CPU, SERVER_CPU, pinned } from './lib/cpu.js';
import { median } from './lib/stats.js';

const PASSES = Number(process.env.UDP_ECHO_PASSES ?? 5);
const SECONDS = Number(process.env.UDP_ECHO_SECONDS ?? 5);
const WINDOW = Number(process.env.UDP_ECHO_WINDOW ?? 32);
const SIZE = Number(process.env.UDP_ECHO_SIZE ?? 64);
const WARMUP = 1;

const root = fileURLToPath(new URL('../', import.meta.url));
const client = `${root}bench/bin/udp-echo-client`;
const bun = `${root}node_modules/.bin/bun`;

/** The baseline: a plain dgram echo, as a careful Node programmer writes it. */
const DGRAM_ECHO = `
import { createSocket } from 'node:dgram';
const socket = createSocket('udp4');
socket.on('message', (data, from) => socket.send(data, from.port, from.address));
socket.on('error', () => {});
socket.bind(0, '127.0.0.1', () => console.log(socket.address().port));
`;

/** Torsion: the RFC 862 DatagramEcho from @torsion/echo on a NodeReactor. */
const TORSION_ECHO = `
import { NodeReactor } from '@torsion/core';
import { DatagramEcho } from '@torsion/echo';
const reactor = new NodeReactor();
const port = reactor.listenUDP(0, new DatagramEcho(), { interface: '127.0.0.1' });
await port.whenListening();
console.log(port.getHost().port);
`;

/** The same protocol on a BunReactor. */
const BUN_REACTOR_ECHO = `
import { DatagramEcho } from '@torsion/echo';
import { BunReactor } from '@torsion/reactor-bun';
const reactor = new BunReactor();
const port = reactor.listenUDP(0, new DatagramEcho(), { interface: '127.0.0.1' });
await port.whenListening();
console.log(port.getHost().port);
`;

interface Server {
  readonly name: string;
  readonly argv: string[];
  readonly unavailable: () => string | null;
}

const SERVERS: Server[] = [
  {
    name: 'dgram',
    argv: [process.execPath, '--input-type=module', '-e', DGRAM_ECHO],
    unavailable: () => null,
  },
  {
    name: 'torsion',
    argv: [process.execPath, '--input-type=module', '-e', TORSION_ECHO],
    unavailable: () =>
      existsSync(`${root}packages/echo/dist/udp-echo.js`) ? null : 'not built (npm run build)',
  },
  {
    name: 'bun-reactor',
    argv: [bun, '-e', BUN_REACTOR_ECHO],
    unavailable: () =>
      existsSync(bun) && existsSync(`${root}packages/reactor-bun/dist/index.js`)
        ? null
        : 'bun or @torsion/reactor-bun is not installed and built',
  },
];

interface ClientResult {
  replies: number;
  seconds: number;
  rate: number;
  refills: number;
  client_cpu: number;
}

/** Starts a server pinned to the server core; resolves with its port and a stop function. */
async function startServer(server: Server, pin: boolean) {
  const [command = '', ...args] = pinned(server.argv, pin ? SERVER_CPU : null);
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${server.name}: no port within 20 s`));
    }, 20_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(Number(line));
    });
    child.once('exit', (code) => {
      reject(new Error(`${server.name} exited with ${String(code)}`));
    });
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

async function measure(server: Server, pin: boolean): Promise<ClientResult> {
  const running = await startServer(server, pin);
  try {
    const argv = pinned(
      [client, String(running.port), String(WINDOW), String(SIZE), String(WARMUP), String(SECONDS)],
      pin ? CLIENT_CPU : null,
    );
    const [command = '', ...args] = argv;
    const out = execFileSync(command, args, {
      encoding: 'utf8',
      timeout: (WARMUP + SECONDS + 30) * 1000,
    });
    return JSON.parse(out.trim()) as ClientResult;
  } finally {
    await running.stop();
  }
}

/**
 * Why the server and the client cannot go to their own cores, or null. Not
 * lib/cpu.ts's check: bench/run.ts pins this script to the server core, so
 * the parallelism available here is 1, yet taskset can still place the
 * children on any core of the machine.
 */
function pinningProblemHere(): string | null {
  if (cpus().length < 2) return 'fewer than 2 CPUs';
  try {
    execFileSync('taskset', ['-c', String(CLIENT_CPU), 'true'], { stdio: 'ignore' });
    return null;
  } catch {
    return `taskset cannot run a process on CPU ${String(CLIENT_CPU)}`;
  }
}

mkdirSync(`${root}bench/bin`, { recursive: true });
execFileSync('gcc', ['-O2', '-o', client, `${root}bench/udp-echo-client.c`]);
const pinProblem = pinningProblemHere();
const pin = pinProblem === null;
console.log(
  `pinning: ${pin ? `server CPU ${String(SERVER_CPU)}, client CPU ${String(CLIENT_CPU)}` : `off (${pinProblem})`}`,
);
const runnable = SERVERS.filter((s) => {
  const why = s.unavailable();
  if (why !== null) console.log(`${s.name}: skipped (${why})`);
  return why === null;
});
const rates = new Map<string, number[]>(runnable.map((s) => [s.name, []]));
for (let pass = 1; pass <= PASSES; pass++) {
  for (const server of runnable) {
    const result = await measure(server, pin);
    rates.get(server.name)?.push(result.rate);
    console.log(
      `pass ${String(pass)}/${String(PASSES)} ${server.name}: ${result.rate.toFixed(0)} datagrams/s (client CPU ${result.client_cpu.toFixed(2)}, refills ${String(result.refills)})`,
    );
  }
}
const baseline = median(rates.get('dgram') ?? []);
const results = runnable.map((s) => {
  const rate = median(rates.get(s.name) ?? []);
  return { name: s.name, datagramsPerSecond: Math.round(rate), ratio: rate / baseline };
});
console.log(JSON.stringify({ bench: 'udpEcho', results }));
