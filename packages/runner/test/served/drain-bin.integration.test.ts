// The drain in the `torsion` bin as a process, with real signals: on Node, and
// on Bun (node_modules/.bin/bun) with --reactor bun.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { client, refused, until } from './support.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');
const bunBinary = join(repoRoot, 'node_modules/.bin/bun');

interface Server {
  child: ChildProcess;
  port: number;
  stderr(): string;
  stdout(): string;
  exit: Promise<number | null>;
}

async function serve(runtime: string[], args: string[]): Promise<Server> {
  const [command = '', ...pre] = runtime;
  const child = spawn(command, [...pre, bin, ...args], { cwd: repoRoot });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(
    () => /echo listening on 127\.0\.0\.1:\d+/.test(stderr) || child.exitCode !== null,
    10_000,
  );
  const match = /echo listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
  if (match === null) throw new Error(`did not start: ${stderr}`);
  return { child, port: Number(match[1]), stderr: () => stderr, stdout: () => stdout, exit };
}

const RUNTIMES = [
  { name: 'Node', runtime: [process.execPath], args: [] as string[], available: true },
  {
    name: 'Bun (BunReactor)',
    runtime: [bunBinary],
    args: ['--reactor', 'bun'],
    available: existsSync(bunBinary),
  },
];

for (const { name, runtime, args, available } of RUNTIMES) {
  describe(`the torsion bin drains on SIGTERM: ${name}`, function () {
    this.timeout(30_000);
    before(function () {
      if (!available) this.skip();
    });

    it('lets a transfer finish, refuses new connects, exits 0', async () => {
      const s = await serve(runtime, [
        ...args,
        '--shutdown-timeout',
        '10',
        '--access-log',
        '-',
        'echo',
        '--listen',
        'tcp:0:interface=127.0.0.1',
      ]);
      const c = await client(s.port);
      c.socket.write('before ');
      await until(() => c.received() === 'before ');
      s.child.kill('SIGTERM');
      await until(() => s.stderr().includes('Draining 1 connection'));
      expect(await refused(s.port)).to.equal(true);
      c.socket.write('after');
      await until(() => c.received() === 'before after');
      c.socket.end();
      expect((await c.closed).hadError).to.equal(false);
      expect(await s.exit).to.equal(0);
      expect(s.stdout()).to.match(
        /\[torsion\.access\] info: echo 127\.0\.0\.1:\d+ clean .*bytesIn=12 bytesOut=12 ending=clean/,
      );
    });

    it('serves GET /metrics on --metrics', async () => {
      const s = await serve(runtime, [
        ...args,
        '--metrics',
        'tcp:0:interface=127.0.0.1',
        'echo',
        '--listen',
        'tcp:0:interface=127.0.0.1',
      ]);
      await until(() => /metrics on 127\.0\.0\.1:\d+/.test(s.stderr()));
      const metricsPort = Number(/metrics on 127\.0\.0\.1:(\d+)/.exec(s.stderr())?.[1]);
      const c = await client(s.port);
      c.socket.write('abc');
      await until(() => c.received() === 'abc');
      const m = await client(metricsPort);
      m.socket.write('GET /metrics HTTP/1.1\r\n\r\n');
      await m.closed;
      expect(m.received()).to.match(/^HTTP\/1\.1 200 OK/);
      expect(m.received()).to.include('torsion_connections_open{plugin="echo"} 1');
      expect(m.received()).to.include('torsion_bytes_received_total{plugin="echo"} 3');
      c.socket.end();
      await c.closed;
      s.child.kill('SIGTERM');
      expect(await s.exit).to.equal(0);
    });

    it('aborts at once on a second SIGTERM, and exits 0', async () => {
      const s = await serve(runtime, [
        ...args,
        '--shutdown-timeout',
        '60',
        'echo',
        '--listen',
        'tcp:0:interface=127.0.0.1',
      ]);
      const c = await client(s.port);
      s.child.kill('SIGTERM');
      await until(() => s.stderr().includes('Draining 1 connection'));
      const second = performance.now();
      s.child.kill('SIGTERM');
      const closed = await c.closed;
      expect((closed.at - second) / 1000).to.be.below(5);
      expect(await s.exit).to.equal(0);
      expect(s.stderr()).to.include('during the drain: aborting every connection now');
    });
  });
}
