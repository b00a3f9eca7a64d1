// The supervisor example: its back-off in virtual time on SimulatedReactor
// with scripted children, then the real program (examples/dist/supervisor/main.js)
// restarting a crashing `sh` and stopping cleanly on SIGTERM.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimulatedReactor } from '@torsion/core/testing';
import { Supervisor } from '../src/supervisor/supervisor.js';

const main = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'dist',
  'supervisor',
  'main.js',
);

describe('examples/supervisor', function () {
  this.timeout(20_000);

  it('restarts a crashing child after 1, 2, 4, 8 s, capped, and starts over after a long run (virtual time)', () => {
    const reactor = new SimulatedReactor({ autoAdvance: false });
    let runs = 0;
    // Crashes 0.5 s after each start, except the 6th run, which stays up 20 s.
    reactor.processes.define('worker', (child) => {
      runs++;
      child.after(runs === 6 ? 20 : 0.5, () => {
        child.exit(1);
      });
    });
    const supervisor = new Supervisor(reactor, 'worker', [], { maxDelay: 8 });
    supervisor.start();
    reactor.advance(60);
    // Starts: 0; 0.5+1; +0.5+2; +0.5+4; +0.5+8; +0.5+8 (cap) = the long run;
    // it ends at 45.5 and the delay is back to 1, then 2, then 4.
    expect(supervisor.startTimes).to.deep.equal([0, 1.5, 4, 8.5, 17, 25.5, 46.5, 49, 53.5]);
  });

  it('stop() sends SIGTERM, then SIGKILL after the grace period to a child that ignores it', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('stubborn', { ignoreSignals: true });
    const supervisor = new Supervisor(reactor, 'stubborn', [], { stopGrace: 5 });
    supervisor.start();
    const child = reactor.processes.started[0];
    await supervisor.stop();
    expect(child?.transport.signals).to.deep.equal(['SIGTERM', 'SIGKILL']);
    expect(reactor.seconds()).to.equal(5);
    expect(supervisor.startTimes).to.have.length(1);
  });

  it('the program restarts a crashing command and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [main, '--', 'sh', '-c', 'echo crashing; exit 1'], {
      env: { ...process.env, BACKOFF_INITIAL: '0.05' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      for (let i = 0; i < 200 && (stderr.match(/restarting in/g) ?? []).length < 3; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((stderr.match(/restarting in/g) ?? []).length).to.be.at.least(3);
      expect(stderr).to.contain('child: crashing');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).to.equal(0);
      expect(stderr).to.contain('supervisor stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
