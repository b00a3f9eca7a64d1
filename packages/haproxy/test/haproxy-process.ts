// A real HAProxy for the interop tests: started on loopback from a
// configuration the test writes, with its stats socket (a UNIX socket in a
// temporary directory) to ask `show stat` whether health checks have marked
// a server UP. HAProxy cannot bind port 0, so the frontends get ports found
// free just before it starts, with a bounded retry if one was taken
// meanwhile. Every process started here is killed by stop(), and, should a
// test forget, when the test process exits.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAPROXY = '/usr/sbin/haproxy';
export const HAVE_HAPROXY =
  spawnSync(HAPROXY, ['-v'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
export const SKIP_REASON =
  '(skipped: `haproxy` is not installed; .ci/run installs the Debian package haproxy)';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ host: '127.0.0.1', port });
    probe.on('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

/** One row of `show stat`, by column name (`pxname`, `svname`, `status`, `chkdown`, …). */
export type StatRow = Record<string, string>;

export interface RunningHAProxy {
  /** The frontend ports, in the order the configuration asked for them. */
  readonly ports: readonly number[];
  /** Everything HAProxy wrote on stdout and stderr so far (its log, with `log stderr`). */
  output(): string;
  /** `show stat` over the stats socket. */
  showStat(): Promise<StatRow[]>;
  /**
   * Waits (at most `ms`) until each `backend/server` is UP with a passed
   * check (`check_status` L4OK/L6OK/L7OK: a server is UP before its first
   * check); throws with the last status otherwise.
   */
  waitUntilUp(servers: readonly string[], ms?: number): Promise<void>;
  /** Kills HAProxy (SIGKILL) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The parts of the configuration every test shares: loopback, the stats socket, logs on stderr. */
export function globalSection(statsSocket: string): string[] {
  return [
    'global',
    '  maxconn 100',
    '  log stderr format raw local0',
    `  stats socket ${statsSocket} mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  log global',
    '  option log-health-checks',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    '  timeout check 2s',
  ];
}

/**
 * Starts HAProxy with the configuration `configFor(ports, statsSocket)`
 * returns, `frontends` ports found free. Resolves once every frontend
 * accepts (a bind failure makes HAProxy exit at once: then it tries again
 * with other ports, five times at most).
 */
export async function startHAProxy(
  frontends: number,
  configFor: (ports: readonly number[], statsSocket: string) => string,
): Promise<RunningHAProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-haproxy-'));
  const statsSocket = join(dir, 'stats.sock');
  let lastError = '';
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const ports: number[] = [];
      for (let i = 0; i < frontends; i++) ports.push(await freePort());
      const config = join(dir, 'haproxy.cfg');
      writeFileSync(config, configFor(ports, statsSocket));
      const child = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      child.once('exit', () => running.delete(child));
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      for (let i = 0; i < 100 && child.exitCode === null; i++) {
        if ((await Promise.all(ports.map(accepts))).every(Boolean)) break;
        await sleep(50);
      }
      if (child.exitCode === null) {
        return handle(child, dir, ports, statsSocket, () => output);
      }
      lastError = output;
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`haproxy did not start in 5 attempts: ${lastError}`);
}

function handle(
  child: ChildProcess,
  dir: string,
  ports: readonly number[],
  statsSocket: string,
  output: () => string,
): RunningHAProxy {
  const showStat = (): Promise<StatRow[]> =>
    new Promise((resolve, reject) => {
      let text = '';
      const socket: Socket = connect(statsSocket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no answer from the HAProxy stats socket within 2 s'));
      }, 2000);
      socket.on('connect', () => socket.write('show stat\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        const [head = '', ...lines] = text.split('\n').filter((line) => line !== '');
        const columns = head.replace(/^# /, '').split(',');
        resolve(
          lines.map((line) => {
            const values = line.split(',');
            return Object.fromEntries(columns.map((name, i) => [name, values[i] ?? '']));
          }),
        );
      });
    });
  const status = async (): Promise<Map<string, string>> =>
    new Map(
      (await showStat()).map((row) => [
        `${row.pxname}/${row.svname}`,
        `${row.status ?? ''} ${row.check_status ?? ''}`,
      ]),
    );
  return {
    ports,
    output,
    showStat,
    async waitUntilUp(servers, ms = 10_000) {
      const deadline = Date.now() + ms;
      let last = new Map<string, string>();
      while (Date.now() < deadline) {
        last = await status();
        if (servers.every((server) => /^UP L[467]OK$/.test(last.get(server) ?? ''))) return;
        await sleep(50);
      }
      throw new Error(
        `not UP within ${String(ms)} ms: ${servers.map((s) => `${s}=${last.get(s) ?? '?'}`).join(' ')}\n${output()}`,
      );
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
