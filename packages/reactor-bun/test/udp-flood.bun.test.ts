// Hostile input on Bun: a datagram flood from one address (another process,
// at most 200,000 datagrams or 4 seconds, loopback) must not starve the
// reactor: a repeating 20 ms callLater keeps firing near its time while the
// flood is read. The flooding child is core's (packages/core/test/support).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DatagramProtocol } from '@torsion/core';
import { BunReactor } from '../src/index.js';

const CHILD = fileURLToPath(
  new URL('../../core/test/support/udp-flood-child.mjs', import.meta.url),
);

class Counter extends DatagramProtocol {
  count = 0;
  override datagramReceived(): void {
    this.count++;
  }
}

describe('BunReactor UDP flood', function () {
  this.timeout(30_000);

  it('a flood from one address does not starve timers', async () => {
    const reactor = new BunReactor({ installSignalHandlers: false });
    const done = reactor.run();
    try {
      const counter = new Counter();
      const port = reactor.listenUDP(0, counter, { interface: '127.0.0.1' });
      await port.whenListening();
      // Node runs the flooding child: the same sender as NodeReactor's flood test.
      const child = spawn('node', [CHILD, String(port.getHost().port), '200000', '4'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = once(child, 'exit');
      while (counter.count < 1000) await new Promise((r) => setTimeout(r, 5));
      const lateness: number[] = [];
      await new Promise<void>((resolve) => {
        let expected = reactor.seconds() + 0.02;
        const tick = (): void => {
          lateness.push((reactor.seconds() - expected) * 1000);
          if (lateness.length === 40) {
            resolve();
            return;
          }
          expected = reactor.seconds() + 0.02;
          reactor.callLater(0.02, tick);
        };
        reactor.callLater(0.02, tick);
      });
      const readDuringTimers = counter.count;
      await exited;
      expect(readDuringTimers, 'datagrams read while the timers ran').to.be.above(1000);
      expect(
        Math.max(...lateness),
        `worst timer lateness (ms), all: ${lateness.map((l) => l.toFixed(1)).join(' ')}`,
      ).to.be.below(250);
    } finally {
      reactor.stop();
      await done;
    }
  });
});
