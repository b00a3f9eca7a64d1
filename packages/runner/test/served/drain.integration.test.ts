// The graceful drain, in-process: runServices on a NodeReactor stopped with
// reactor.stop() (what the reactor's SIGTERM handler does), real loopback clients.
import { setLogObservers } from '@torsion/core';
import { expect } from 'chai';

import { client, refused, start, until } from './support.js';

describe('runServices: the graceful drain', function () {
  this.timeout(20_000);
  afterEach(() => {
    setLogObservers([]);
  });

  it('lets a connection mid-transfer finish, refuses new connects, and exits 0', async () => {
    const s = await start(['echo', '--listen', 'tcp:0:interface=127.0.0.1']);
    const port = s.ports[0]!.getHost().port;
    const c = await client(port);
    c.socket.write('first ');
    await until(() => c.received() === 'first ');
    s.reactor.stop();
    await until(() => s.stderr.text.includes('Draining 1 connection'));
    expect(await refused(port)).to.equal(true);
    // The transfer goes on after the drain began, and the client closes when it is done.
    c.socket.write('second');
    await until(() => c.received() === 'first second');
    c.socket.end();
    const closed = await c.closed;
    expect(closed.hadError).to.equal(false);
    expect(await s.code).to.equal(0);
  });

  it('closes an idle connection at the deadline, not before, and exits 0', async () => {
    const s = await start([
      '--shutdown-timeout',
      '1',
      'echo',
      '--listen',
      'tcp:0:interface=127.0.0.1',
    ]);
    const c = await client(s.ports[0]!.getHost().port);
    const stoppedAt = performance.now();
    s.reactor.stop();
    const closed = await c.closed;
    const after = (closed.at - stoppedAt) / 1000;
    expect(after).to.be.within(0.9, 3);
    expect(await s.code).to.equal(0);
    expect(s.stderr.text).to.include('Closing 1 connection(s) still open at the drain deadline');
    expect(closed.hadError).to.equal(false);
  });

  it('tells a protocol with serverDraining() and lets it close on its own', async () => {
    const s = await start(['--shutdown-timeout', '10', './polite-plugin.mjs']);
    const c = await client(s.ports[0]!.getHost().port);
    const stoppedAt = performance.now();
    s.reactor.stop();
    const closed = await c.closed;
    expect(c.received()).to.equal('draining until a deadline\r\n');
    expect(closed.hadError).to.equal(false);
    expect((closed.at - stoppedAt) / 1000).to.be.below(5);
    expect(await s.code).to.equal(0);
  });

  it('with --shutdown-timeout 0 closes connections at once, as the reactor does', async () => {
    const s = await start([
      '--shutdown-timeout',
      '0',
      'echo',
      '--listen',
      'tcp:0:interface=127.0.0.1',
    ]);
    const c = await client(s.ports[0]!.getHost().port);
    s.reactor.stop();
    const closed = await c.closed;
    expect(closed.hadError).to.equal(false);
    expect(await s.code).to.equal(0);
  });
});
