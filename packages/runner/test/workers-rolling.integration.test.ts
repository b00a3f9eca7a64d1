// SIGHUP to `torsion --workers 2 echo` restarts the workers one at a time
// while a client keeps connecting: measured, not assumed — no connection is
// refused or reset, and every echo comes back byte-exact. Bounded: about
// 3 s of traffic, at most a few thousand connections, loopback only.
import { expect } from 'chai';
import { freePort, keepEchoing, startTorsion, type TorsionProcess } from './workers-support.js';

const TRAFFIC_MS = 3000;
const CLIENTS = 4;
const MAX_CONNECTIONS = 20_000;

describe('torsion --workers 2: SIGHUP rolling restart', function () {
  this.timeout(60_000);
  let running: TorsionProcess | undefined;
  afterEach(() => {
    running?.kill();
    running = undefined;
  });

  it('refuses and resets no connection of a client that keeps connecting, and every echo is exact', async () => {
    const port = await freePort();
    running = startTorsion([
      '--workers',
      '2',
      'echo',
      '--listen',
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    const torsion = running;
    await torsion.waitFor(/2 workers serving/);

    const began = Date.now();
    const traffic = keepEchoing(port, CLIENTS, MAX_CONNECTIONS);

    await new Promise((resolve) => setTimeout(resolve, 300));
    torsion.child.kill('SIGHUP');
    await torsion.waitFor(/rolling restart done/, 20_000, 1);
    torsion.child.kill('SIGHUP');
    await torsion.waitFor(/rolling restart done/, 20_000, 2);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(300, TRAFFIC_MS - (Date.now() - began))),
    );
    traffic.stop();
    const { errors, mismatches, exchanges, started } = await traffic.done;

    expect(
      errors,
      `connections refused or reset (of ${started}); torsion's log:\n${torsion.stderr()}`,
    ).to.deep.equal({});
    expect(mismatches, 'echoes that differ from what was sent').to.equal(0);
    expect(exchanges).to.be.greaterThan(100);
    // Four workers were replaced, each only after its replacement listened.
    expect(
      torsion.stderr().match(/worker \d+ \(pid \d+\) stopped \(exit code 0\)/g),
    ).to.have.length(4);
    expect(torsion.stderr()).to.not.match(/crashed/);

    torsion.child.kill('SIGTERM');
    expect(await torsion.exited).to.deep.equal({ code: 0, signal: null });
  });
});
