// `torsion --workers N` as a process: the workers share one port; SIGTERM
// stops them all and the primary exits 0; a crashed worker is restarted with
// back-off and its exit logged; a crash loop stops the restarts and the
// primary exits 1 once no worker is left; a worker that cannot start stops
// the others; options and endpoints the workers cannot use are usage errors.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  echoOnce,
  fixtures,
  freePort,
  repoRoot,
  startTorsion,
  torsionBin,
  type TorsionProcess,
} from './workers-support.js';

describe('torsion --workers', function () {
  this.timeout(40_000);
  let running: TorsionProcess | undefined;
  afterEach(() => {
    running?.kill();
    running = undefined;
  });

  it('serves one port from every worker, and SIGTERM stops them all with exit 0', async () => {
    const port = await freePort();
    running = startTorsion([
      '--workers',
      '2',
      'echo',
      '--listen',
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    await running.waitFor(/2 workers serving/);
    for (let i = 0; i < 20; i++) {
      const payload = Buffer.from(`hello ${i}\n`);
      expect(await echoOnce(port, payload)).to.deep.equal(payload);
    }
    running.child.kill('SIGTERM');
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
    expect(
      running.stderr().match(/worker \d+ \(pid \d+\) stopped \(exit code 0\)/g),
    ).to.have.length(2);
  });

  it('SIGINT stops them too, with exit 0', async () => {
    const port = await freePort();
    running = startTorsion([
      '--workers',
      '2',
      'echo',
      '--listen',
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    await running.waitFor(/2 workers serving/);
    running.child.kill('SIGINT');
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('a signal to the whole process group (Ctrl-C, systemd) drains: the primary does not signal the workers twice', async () => {
    const port = await freePort();
    running = startTorsion(
      ['--workers', '2', 'echo', '--listen', `tcp:${port}:interface=127.0.0.1`],
      { detached: true }, // its own process group, as a terminal or a systemd unit gives it
    );
    const torsion = running;
    await torsion.waitFor(/2 workers serving/);
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    client.write('before\n');
    await once(client, 'data');
    process.kill(-torsion.pid, 'SIGTERM');
    await torsion.waitFor(/Draining 1 connection\(s\)/);
    // Still served while it drains: no worker took the primary's request as a second signal.
    client.write('during\n');
    const [echo] = (await once(client, 'data')) as [Buffer];
    expect(echo.toString()).to.equal('during\n');
    expect(torsion.stderr()).to.not.match(/during the drain: aborting/);
    client.end();
    expect(await torsion.exited).to.deep.equal({ code: 0, signal: null });
  });

  it("--metrics: the primary serves the workers' counters summed on one port", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    running = startTorsion([
      '--workers',
      '2',
      '--metrics',
      `tcp:${metricsPort}:interface=127.0.0.1`,
      'echo',
      '--listen',
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    await running.waitFor(/2 workers serving/);
    expect(running.stderr()).to.include(`metrics of every worker on 127.0.0.1:${metricsPort}`);
    for (let i = 0; i < 10; i++) await echoOnce(port, Buffer.from('count me\n'));
    // Each worker counts the connections it served; the page is their sum.
    const page = await new Promise<string>((resolvePage, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(metricsPort, '127.0.0.1', () => {
        socket.write('GET /metrics HTTP/1.1\r\nHost: torsion\r\n\r\n');
      });
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        resolvePage(Buffer.concat(chunks).toString());
      });
    });
    expect(page).to.match(/^HTTP\/1\.1 200 /);
    expect(page).to.match(/^torsion_connections_accepted_total\{plugin="echo"\} 10$/m);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).to.equal(0);
  });

  it('restarts a crashed worker after a back-off, logging how it ended', async () => {
    const port = await freePort();
    running = startTorsion([
      '--workers',
      '2',
      join(fixtures, 'crash-plugin.mjs'),
      '--listen',
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    await running.waitFor(/2 workers serving/);
    await echoOnce(port, Buffer.from('crash\n'), 2000).catch(() => Buffer.alloc(0));
    await running.waitFor(
      /worker \d+ \(pid \d+\) crashed \(exit code 1\); restarting it in 0\.1 s \(1 crashes in the last 60 s\)/,
    );
    // The replacement listens: three "listening" lines in all.
    await running.waitFor(/worker \d+ \(pid \d+\) listening/, 15_000, 3);
    for (let i = 0; i < 10; i++) {
      const payload = Buffer.from(`still here ${i}\n`);
      expect(await echoOnce(port, payload)).to.deep.equal(payload);
    }
    running.child.kill('SIGTERM');
    expect((await running.exited).code).to.equal(0);
  });

  it('stops restarting at a crash loop and exits 1 once no worker is left', async () => {
    const port = await freePort();
    running = startTorsion([
      '--workers',
      '1',
      '--restart-limit',
      '3',
      join(fixtures, 'crash-plugin.mjs'),
      '--crash-after',
      '0.3',
      '--listen',
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    const { code } = await running.exited;
    expect(code, running.stderr()).to.equal(1);
    const stderr = running.stderr();
    expect(stderr.match(/crashed \(exit code 1\); restarting it in/g)).to.have.length(2);
    expect(stderr).to.match(/restarting it in 0\.1 s \(1 crashes/);
    expect(stderr).to.match(/restarting it in 0\.2 s \(2 crashes/);
    expect(stderr).to.match(
      /crash loop: 3 crashes within 60 s \(--restart-limit 3\), no more restarts; 0 workers left/,
    );
    expect(stderr).to.match(/no worker left to serve; exiting/);
  });

  it('a worker that cannot start stops the others, and the primary exits 1', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as AddressInfo;
      running = startTorsion([
        '--workers',
        '2',
        'echo',
        '--listen',
        `tcp:${port}:interface=127.0.0.1`,
      ]);
      const { code } = await running.exited;
      expect(code).to.equal(1);
      expect(running.stderr()).to.include(`cannot listen on tcp:${port}:interface=127.0.0.1`);
      expect(running.stderr()).to.match(/failed to start \(exit code 1\); stopping/);
    } finally {
      blocker.close();
    }
  });

  for (const [args, message] of [
    [
      ['--workers', '0', 'echo'],
      "torsion: --workers must be a whole number of at least 1, got '0'\n",
    ],
    [
      ['--workers', '2', 'echo', '--listen', 'tcp:0:interface=127.0.0.1'],
      'torsion: --workers cannot serve tcp:0:interface=127.0.0.1: port 0 would differ between workers and restarts; give a port number\n',
    ],
    [['echo', '--workers', 'lots'], "torsion: --workers must be a number or 'auto', got 'lots'\n"],
  ] as const) {
    it(`exits 2 for: torsion ${args.join(' ')}`, () => {
      const result = spawnSync(process.execPath, [torsionBin, ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect({ status: result.status, stderr: result.stderr }).to.deep.equal({
        status: 2,
        stderr: message,
      });
    });
  }
});
