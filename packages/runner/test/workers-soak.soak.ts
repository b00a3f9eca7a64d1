// The one-minute soak (`npm run soak`; not in the default run, which has the
// ten-second variant, workers-soak.integration.test.ts): 10,000 connections
// churned through `torsion --workers 2 echo` for a minute, a fifth of them
// aborted with an RST at a random moment; every completed echo is
// byte-exact, no other connection fails, and the descriptors and RSS of the
// primary and both workers come back to their starting level (within
// FD_TOLERANCE and RSS_TOLERANCE_KIB). Bounded: 10,000 connections, at most
// 32 at once, loopback only, about 75 s in all.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { leaks, soak } from './workers-soak.js';

describe('torsion --workers 2 echo: the one-minute soak', function () {
  this.timeout(180_000);

  it('10,000 connections with resets: exact echoes, descriptors and RSS back to their level', async function () {
    if (!existsSync('/proc/self/fd')) this.skip(); // descriptors are counted in /proc
    const report = await soak({
      connections: 10_000,
      seconds: 60,
      concurrency: 32,
      resetRatio: 0.2,
      warmUp: 3000,
    });
    const summary = JSON.stringify(report);
    process.stdout.write(`${summary}\n`);
    expect(report.errors, summary).to.deep.equal({});
    expect(report.mismatches, summary).to.equal(0);
    expect(report.echoes + report.resets, summary).to.equal(10_000);
    expect(report.before, summary).to.have.length(3);
    expect(leaks(report), summary).to.deep.equal([]);
  });
});
