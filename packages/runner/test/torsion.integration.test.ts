// The `torsion` bin as a process: exit codes and the one-line errors on stderr.
// (Serving and signals as a process: test/demo.integration.test.ts.)
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');

function torsion(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the torsion command', function () {
  this.timeout(30_000);

  it('prints a usage error naming the problem and exits 2 for a bad endpoint', () => {
    expect(torsion(['echo', '--listen', 'tcp:99999'])).to.deep.equal({
      status: 2,
      stdout: '',
      stderr:
        "torsion: endpoint 'tcp:99999': port must be an integer from 0 to 65535, got '99999'\n",
    });
  });

  it('exits 2 naming an unknown option', () => {
    const result = torsion(['finger', '--user', 'x']);
    expect(result.status).to.equal(2);
    expect(result.stderr).to.match(/^torsion: finger: Unknown option '--user'/);
  });

  it('exits 1 with one error line when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const port = String((blocker.address() as AddressInfo).port);
      const result = torsion(['echo', '--listen', `tcp:${port}:interface=127.0.0.1`]);
      expect(result.status).to.equal(1);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('torsion: '));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include(`cannot listen on tcp:${port}:interface=127.0.0.1`);
    } finally {
      blocker.close();
    }
  });

  it('--help lists the built-in plugins and exits 0', () => {
    const result = torsion(['--help']);
    expect(result.status).to.equal(0);
    expect(result.stdout).to.match(/^ {2}echo {7}/m);
    expect(result.stdout).to.match(/^ {2}finger {5}/m);
  });
});
