// `torsion --workers` under Bun (node_modules/.bin/bun): with BunReactor it
// is a usage error naming --reactor node (Bun.listen's sockets cannot be
// shared by cluster workers); with --reactor node the workers share the
// port through Bun's node:cluster, SIGHUP replaces them, SIGTERM exits 0.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { echoOnce, freePort, repoRoot, torsionBin } from './workers-support.js';

const bun = join(repoRoot, 'node_modules/.bin/bun');

describe('torsion --workers under Bun', function () {
  this.timeout(60_000);
  before(function () {
    if (!existsSync(bun)) this.skip(); // the bun devDependency is not installed
  });

  it('refuses BunReactor with a usage error that names --reactor node', async () => {
    const port = await freePort();
    const result = spawnSync(
      bun,
      [torsionBin, '--workers', '2', 'echo', '--listen', `tcp:${port}:interface=127.0.0.1`],
      { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 },
    );
    expect({ status: result.status, stderr: result.stderr }).to.deep.equal({
      status: 2,
      stderr:
        "torsion: --workers under Bun needs --reactor node: BunReactor's workers cannot share a port (docs/deploying.md#bun)\n",
    });
  });

  it('serves with --reactor node, rolls on SIGHUP and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      bun,
      [
        torsionBin,
        '--workers',
        '2',
        '--reactor',
        'node',
        'echo',
        '--listen',
        `tcp:${port}:interface=127.0.0.1`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const seen = (pattern: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no ${String(pattern)}; stderr:\n${stderr}`));
        }, 20_000);
        const check = (): void => {
          if (pattern.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          check();
        });
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await seen(/2 workers serving/);
      expect(await echoOnce(port, Buffer.from('bun 1\n'))).to.deep.equal(Buffer.from('bun 1\n'));
      child.kill('SIGHUP');
      await seen(/rolling restart done/);
      expect(await echoOnce(port, Buffer.from('bun 2\n'))).to.deep.equal(Buffer.from('bun 2\n'));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
