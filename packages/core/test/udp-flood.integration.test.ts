// Hostile input: a datagram flood from one address must not starve the
// reactor. Another process floods a Torsion UDP port on loopback (bounded:
// 200,000 datagrams or 4 seconds) while this process checks that a repeating
// callLater keeps firing near its time and that a TCP echo on the same reactor
// keeps answering. libuv reads at most 32 datagrams per wake-up of a socket,
// so timers and other sockets get their turn between batches.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Factory } from '../src/factory.js';
import { NodeReactor } from '../src/node-reactor.js';
import { DatagramProtocol } from '../src/datagram-protocol.js';
import { EchoingProtocol } from '../src/testing/index.js';

const CHILD = fileURLToPath(new URL('./support/udp-flood-child.mjs', import.meta.url));

class Counter extends DatagramProtocol {
  count = 0;
  override datagramReceived(): void {
    this.count++;
  }
}

/** One TCP echo round trip to `port`, in milliseconds. */
async function echoRoundTrip(port: number): Promise<number> {
  const started = performance.now();
  const socket = createConnection(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('ping');
  await once(socket, 'data');
  socket.destroy();
  return performance.now() - started;
}

describe('NodeReactor UDP flood (integration)', function () {
  this.timeout(30_000);

  it('a flood from one address does not starve timers or a TCP connection', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const done = reactor.run();
    try {
      const counter = new Counter();
      const udp = reactor.listenUDP(0, counter, { interface: '127.0.0.1' });
      await udp.whenListening();
      const tcp = reactor.listenTCP(0, Factory.forProtocol(EchoingProtocol), {
        interface: '127.0.0.1',
      });
      await tcp.whenListening();

      const child = spawn(process.execPath, [CHILD, String(udp.getHost().port), '200000', '4'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let sentText = '';
      child.stdout.on('data', (chunk: Buffer) => {
        sentText += chunk.toString();
      });
      const exited = once(child, 'exit');

      // Wait until the flood is really arriving.
      while (counter.count < 1000) await new Promise((r) => setTimeout(r, 5));

      // A 20 ms timer, re-armed 40 times through the flood: how late does it fire?
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
      const countDuringTimers = counter.count;
      const trips: number[] = [];
      for (let i = 0; i < 5; i++) trips.push(await echoRoundTrip(tcp.getHost().port));
      await exited;
      const sent = Number(sentText.trim());

      // The flood ran while we measured, and most of it was read.
      expect(countDuringTimers, 'datagrams read while the timers ran').to.be.above(1000);
      expect(sent).to.be.above(10_000);
      // Generous bounds: the machine may be busy; a starved loop misses them by seconds.
      const worst = Math.max(...lateness);
      expect(
        worst,
        `worst timer lateness (ms), all: ${lateness.map((l) => l.toFixed(1)).join(' ')}`,
      ).to.be.below(250);
      expect(Math.max(...trips), 'worst TCP echo round trip (ms)').to.be.below(500);
    } finally {
      reactor.stop();
      await done;
    }
  });
});
