// The README demo as a process: exactly the root package.json "demo" command
// line (with port 0 in place of 8007 and 7979) serves echo and finger over
// loopback, and SIGINT or SIGTERM stops it with exit code 0, whether sent to
// the server or to the launcher (scripts/demo.mjs) npm runs through `sh -c`.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');

/** The arguments of the root package.json "demo" script, with the fixed ports set to 0. */
function demoArguments(): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const command = scripts.demo ?? '';
  const match = /^exec node scripts\/demo\.mjs (.*)$/.exec(command);
  if (match?.[1] === undefined) throw new Error(`unexpected demo script: ${command}`);
  return match[1].split(' ').map((arg) => arg.replace(/^tcp:(8007|7979):/, 'tcp:0:'));
}

interface Running {
  child: ChildProcess;
  ports: Map<string, number>;
  stderr: () => string;
}

/** The demo script exactly as npm runs it, `sh -c '<script>'`, with the fixed ports set to 0. */
function demoThroughShell(): ChildProcess {
  const script = `exec node scripts/demo.mjs ${demoArguments().join(' ')}`;
  return spawn('sh', ['-c', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The tests build before they run.
    env: { ...process.env, TORSION_DEMO_SKIP_BUILD: '1' },
  });
}

async function startTorsion(
  args: string[],
  services: number,
  child: ChildProcess = spawn(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  }),
): Promise<Running> {
  let stderr = '';
  const ports = new Map<string, number>();
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`torsion did not start: ${stderr}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const m of stderr.matchAll(/(\w+) listening on 127\.0\.0\.1:(\d+)/g)) {
        ports.set(m[1] ?? '', Number(m[2]));
      }
      if (ports.size === services) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`torsion exited early with ${String(code)}: ${stderr}`));
    });
  });
  return { child, ports, stderr: () => stderr };
}

async function exchange(port: number, send: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.end(send);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(socket, 'close');
  return received;
}

describe('the README demo (npm run demo)', function () {
  this.timeout(30_000);
  let running: Running | null = null;

  afterEach(() => {
    if (running?.child.exitCode === null) running.child.kill('SIGKILL');
    running = null;
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves echo and finger, then exits 0 on ${signal}, closing idle clients`, async () => {
      running = await startTorsion(demoArguments(), 2);
      expect(await exchange(running.ports.get('echo') ?? 0, 'hello\r\n')).to.equal('hello\r\n');
      const reply = await exchange(running.ports.get('finger') ?? 0, 'alice\r\n');
      expect(reply).to.include('Alice Liddell');
      const idle = connect(running.ports.get('echo') ?? 0, '127.0.0.1');
      await once(idle, 'connect');
      const idleClosed = once(idle, 'close');
      const exited = once(running.child, 'exit');
      running.child.kill(signal);
      const [code] = (await exited) as [number | null];
      expect(code, running.stderr()).to.equal(0);
      await idleClosed;
      expect(running.stderr()).to.match(/echo listening on 127\.0\.0\.1:\d+/);
    });
  }

  /** True once nothing accepts a connection on 127.0.0.1:`port`. */
  async function refused(port: number): Promise<boolean> {
    const socket = connect(port, '127.0.0.1');
    const result = await new Promise<boolean>((resolveResult) => {
      socket.once('connect', () => resolveResult(false));
      socket.once('error', () => resolveResult(true));
    });
    socket.destroy();
    return result;
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`run as npm runs it (sh -c), stops the server on ${signal} to the launcher`, async () => {
      running = await startTorsion([], 2, demoThroughShell());
      const echoPort = running.ports.get('echo') ?? 0;
      expect(await exchange(echoPort, 'hi\r\n')).to.equal('hi\r\n');
      const exited = once(running.child, 'exit');
      // `exec` made the shell's PID the launcher's: npm signals that PID.
      running.child.kill(signal);
      const [code] = (await exited) as [number | null];
      expect(code, running.stderr()).to.equal(0);
      expect(running.stderr()).to.include(`Received ${signal}, shutting down`);
      // The server is gone too: both ports refuse (bounded: 5 s).
      const deadline = Date.now() + 5000;
      for (const port of running.ports.values()) {
        while (!(await refused(port))) {
          if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
          await new Promise((resolveLater) => setTimeout(resolveLater, 50));
        }
      }
    });
  }
});
