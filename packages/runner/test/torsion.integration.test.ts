// The `torsion` bin as a process: exit codes and the one-line errors on stderr.
// (Serving and signals as a process: test/demo.integration.test.ts.)
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');

function torsion(
  args: string[],
  timeout = 15_000,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout,
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

  // Issue #9: `torsion finger --users /dev/zero` grew to 1 GiB and never
  // started; a FIFO hung it. So did a FIFO or /dev/zero given as a plugin or
  // reactor module. Each must fail at once with one line naming the file.
  // The short time limit also stops a regression from growing for long.
  describe('given a file that is not a regular file', () => {
    let dir = '';
    let fifo = '';
    beforeEach(function () {
      if (process.platform === 'win32' || !existsSync('/dev/zero')) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'torsion-runner-'));
      fifo = join(dir, 'users.json');
      execFileSync('mkfifo', [fifo]);
    });
    afterEach(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
      dir = '';
    });

    const quickly = (args: string[]): ReturnType<typeof torsion> => {
      const result = torsion(args, 5000);
      expect(result.status, `no exit within 5 s; stderr: ${result.stderr}`).to.not.equal(null);
      return result;
    };

    it('torsion finger --users /dev/zero exits 1 with one clear line', () => {
      expect(quickly(['finger', '--users', '/dev/zero', '--listen', 'tcp:0'])).to.deep.equal({
        status: 1,
        stdout: '',
        stderr:
          'torsion: finger: Cannot read the finger users file /dev/zero: /dev/zero is a character device, not a regular file\n',
      });
    });

    it('torsion finger --users FIFO exits 1 with one clear line', () => {
      expect(quickly(['finger', '--users', fifo, '--listen', 'tcp:0'])).to.deep.equal({
        status: 1,
        stdout: '',
        stderr: `torsion: finger: Cannot read the finger users file ${fifo}: ${fifo} is a FIFO (named pipe), not a regular file\n`,
      });
    });

    for (const [what, path] of [
      ['/dev/zero', () => '/dev/zero'],
      ['a FIFO', () => fifo],
    ] as const) {
      it(`torsion <plugin> exits 1 for ${what} given as the plugin module`, () => {
        const result = quickly([path()]);
        expect(result.status).to.equal(1);
        expect(result.stderr).to.match(
          new RegExp(`^torsion: plugin '.+' failed to load: .+ is a .+, not a regular file\n$`),
        );
      });

      it(`torsion --reactor exits 2 for ${what} given as the reactor module`, () => {
        const result = quickly(['--reactor', path(), 'echo', '--listen', 'tcp:0']);
        expect(result.status).to.equal(2);
        expect(result.stderr).to.match(
          new RegExp(`^torsion: reactor '.+' failed to load: .+ is a .+, not a regular file\n$`),
        );
      });
    }
  });

  it('--help lists the built-in plugins and exits 0', () => {
    const result = torsion(['--help']);
    expect(result.status).to.equal(0);
    expect(result.stdout).to.match(/^ {2}echo {7}/m);
    expect(result.stdout).to.match(/^ {2}finger {5}/m);
  });
});
