// The ten-second soak that every test run does (the one-minute soak with
// 10,000 connections is `npm run soak`, workers-soak.soak.ts): connections
// churned through `torsion --workers 2 echo`, a fifth of them aborted with an
// RST; every completed echo is byte-exact, no other connection fails, and the
// descriptors and RSS of the primary and both workers come back to their
// starting level (within FD_TOLERANCE and RSS_TOLERANCE_KIB).
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { leaks, soak } from './workers-soak.js';

describe('torsion --workers 2 echo: a ten-second soak', function () {
  this.timeout(90_000);

  it('1,500 connections with resets: exact echoes, descriptors and RSS back to their level', async function () {
    if (!existsSync('/proc/self/fd')) this.skip(); // descriptors are counted in /proc
    const report = await soak({
      connections: 1500,
      seconds: 10,
      concurrency: 16,
      resetRatio: 0.2,
      warmUp: 300,
    });
    const summary = JSON.stringify(report);
    expect(report.errors, summary).to.deep.equal({});
    expect(report.mismatches, summary).to.equal(0);
    expect(report.echoes + report.resets, summary).to.equal(1500);
    expect(report.resets, summary).to.be.greaterThan(100);
    expect(report.before, summary).to.have.length(3);
    expect(leaks(report), summary).to.deep.equal([]);
  });
});
