// The `torsion` bin serves `--listen haproxy:…` with no plugin importing
// @torsion/haproxy: the type is in `torsion --help` and in the "known: …"
// list of a bad endpoint, and `torsion echo --listen haproxy:tcp:0` reads a
// PROXY header and then echoes. (Behind a real HAProxy:
// packages/haproxy/test/haproxy-interop.integration.test.ts.)
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
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

describe('torsion --listen haproxy:… (integration)', function () {
  this.timeout(30_000);

  it('lists haproxy: in torsion --help', () => {
    const { status, stdout } = torsion(['--help']);
    expect(status).to.equal(0);
    expect(stdout).to.match(/^ +haproxy:\[trust=CIDR,\.\.\.:\]\[timeout=SECONDS:\]ENDPOINT/m);
  });

  it('names haproxy among the known types when an endpoint type is misspelt, and checks its options', () => {
    const misspelt = torsion(['echo', '--listen', 'haproxi:tcp:0']);
    expect(misspelt.status).to.equal(2);
    expect(misspelt.stderr).to.match(/unknown endpoint type 'haproxi' \(known: [^)]*\bhaproxy\b/);
    const bad = torsion(['echo', '--listen', 'haproxy:trust=10.0.0.0/99:tcp:0']);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(
      /^torsion: endpoint 'haproxy:trust=10\.0\.0\.0\/99:tcp:0': .*trust\[0\]/,
    );
  });

  it('torsion echo --listen haproxy:tcp:0 reads the header, then echoes; SIGTERM stops it with 0', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'echo', '--listen', 'haproxy:tcp:0:interface=127.0.0.1'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stderr = '';
      const port = await new Promise<number>((resolvePort, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening: ${stderr}`)), 15_000);
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /echo listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
          if (match !== null) {
            clearTimeout(timer);
            resolvePort(Number(match[1]));
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${String(code)}: ${stderr}`));
        });
      });
      const socket = connect({ host: '127.0.0.1', port });
      await once(socket, 'connect');
      // Header and data in one write: the data after the header must reach echo intact.
      socket.write('PROXY TCP4 203.0.113.7 198.51.100.1 51000 443\r\nhello');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      for (let i = 0; i < 100 && received !== 'hello'; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      socket.destroy();
      expect(received).to.equal('hello');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).to.equal(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
