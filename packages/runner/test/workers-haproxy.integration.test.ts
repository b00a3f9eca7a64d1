// A real HAProxy (send-proxy-v2, health checks with check-send-proxy) in
// front of `torsion --workers 2 echo --listen haproxy:tcp:PORT`, as
// docs/deploying.md configures it: clients keep echoing through HAProxy while
// SIGHUP replaces the workers twice; no connection fails, every echo is exact,
// and HAProxy never marks the server down. Bounded: a few seconds, loopback.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, keepEchoing, startTorsion, type TorsionProcess } from './workers-support.js';

const HAPROXY = '/usr/sbin/haproxy';
const HAVE_HAPROXY = spawnSync(HAPROXY, ['-v'], { timeout: 10_000 }).status === 0;

async function accepting(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing accepts on ${port} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('torsion --workers behind a real HAProxy', function () {
  this.timeout(60_000);
  let torsion: TorsionProcess | undefined;
  let haproxy: ChildProcess | undefined;
  let dir = '';
  afterEach(() => {
    torsion?.kill();
    haproxy?.kill('SIGKILL');
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    torsion = undefined;
    haproxy = undefined;
    dir = '';
  });

  it('send-proxy-v2 with health checks: rolling restarts fail no connection and never take the server down', async function () {
    if (!HAVE_HAPROXY) {
      console.warn(
        '    (skipped: `haproxy` is not installed; .ci/run installs the Debian package haproxy)',
      );
      this.skip();
    }
    const backendPort = await freePort();
    const frontendPort = await freePort();
    torsion = startTorsion([
      '--workers',
      '2',
      'echo',
      '--listen',
      `haproxy:tcp:${backendPort}:interface=127.0.0.1`,
    ]);
    await torsion.waitFor(/2 workers serving/);
    dir = mkdtempSync(join(tmpdir(), 'torsion-workers-haproxy-'));
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        '  maxconn 200',
        '  log stderr format raw local0',
        'defaults',
        '  mode tcp',
        '  log global',
        '  option log-health-checks',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        '  timeout check 2s',
        'frontend echo',
        `  bind 127.0.0.1:${frontendPort}`,
        '  default_backend torsion',
        'backend torsion',
        `  server echo1 127.0.0.1:${backendPort} send-proxy-v2 check check-send-proxy inter 100ms`,
        '',
      ].join('\n'),
    );
    let haproxyLog = '';
    haproxy = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout?.on('data', (chunk: Buffer) => (haproxyLog += chunk.toString()));
    haproxy.stderr?.on('data', (chunk: Buffer) => (haproxyLog += chunk.toString()));
    await accepting(frontendPort, 10_000);

    const traffic = keepEchoing(frontendPort, 4, 20_000);
    const running = torsion;
    await new Promise((resolve) => setTimeout(resolve, 300));
    running.child.kill('SIGHUP');
    await running.waitFor(/rolling restart done/, 20_000, 1);
    running.child.kill('SIGHUP');
    await running.waitFor(/rolling restart done/, 20_000, 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    traffic.stop();
    const { errors, mismatches, mismatchSizes, exchanges, started } = await traffic.done;

    const logs = `HAProxy:\n${haproxyLog}\ntorsion:\n${running.stderr()}`;
    expect(errors, `failed connections (of ${started}); ${logs}`).to.deep.equal({});
    expect(mismatches, `${JSON.stringify(mismatchSizes)}; ${logs}`).to.equal(0);
    expect(exchanges, logs).to.be.greaterThan(50);
    // Checks ran (every 100 ms) and none failed: the server stayed UP throughout.
    expect(haproxyLog, logs).to.not.match(/is DOWN|failed, reason/);
    expect(running.stderr(), logs).to.not.match(/closed a connection|crashed/);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).to.equal(0);
  });
});
