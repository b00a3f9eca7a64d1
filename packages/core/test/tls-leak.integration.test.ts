// 10,000 failed TLS handshakes in a row on a NodeReactor listenSSL port leak
// no file descriptors and no memory. Run in a child process
// (support/tls-failed-handshakes-child.ts) so that forced collections and
// /proc/self/fd see that server alone. The bounds are far below what a leak
// of a socket, a TLS context or a few hundred bytes per connection would
// cost, and far above the noise (RSS grows by a plateau of allocator pages
// in the first thousands of connections, then stays). No timing is asserted.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./support/tls-failed-handshakes-child.ts', import.meta.url));

interface Sample {
  heap: number;
  rss: number;
  fds: number;
}

interface Result {
  rounds: number;
  failuresLogged: number;
  built: number;
  handshakesInProgress: number;
  before: Sample;
  after: Sample;
}

const MiB = 1024 * 1024;

describe('NodeReactor TLS: failed handshakes leak nothing (loopback)', () => {
  it('10,000 failed handshakes in a row leave the file descriptors, heap and RSS where they were', async function () {
    if (process.platform !== 'linux') {
      console.warn('    (skipped: counts file descriptors in /proc/self/fd, which only Linux has)');
      this.skip();
    }
    this.timeout(120_000);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', child, '10000'],
        { timeout: 110_000 },
        (err, stdout, stderr) => {
          if (err !== null) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
    const result = JSON.parse(out.trim()) as Result;
    expect(result.failuresLogged, 'every failure is logged').to.equal(10_000);
    expect(result.built, 'no protocol is built').to.equal(0);
    expect(result.handshakesInProgress).to.equal(0);
    expect(result.after.fds, 'open file descriptors').to.be.at.most(result.before.fds);
    expect(result.after.heap - result.before.heap, 'heap and Buffer growth').to.be.below(2 * MiB);
    expect(result.after.rss - result.before.rss, 'RSS growth').to.be.below(48 * MiB);
  });
});
