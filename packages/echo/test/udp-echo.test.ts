// DatagramEcho on an in-memory UDP port, and the plugin member that makes it.
import { expect } from 'chai';
import { addressFor, Logger } from '@torsion/core';
import type { PluginContext } from '@torsion/core';
import { MemoryReactor, MemoryReactorClock } from '@torsion/core/testing';
import plugin from '../src/plugin.js';
import { DatagramEcho, ECHO_LOOP_PORTS } from '../src/udp-echo.js';

describe('DatagramEcho', () => {
  it('sends every datagram back, whole, to its sender', () => {
    const port = new MemoryReactor().listenUDP(7, new DatagramEcho());
    const a = addressFor('UDP', '192.0.2.1', 5000);
    const b = addressFor('UDP', '192.0.2.2', 6000);
    port.deliver('one', a);
    port.deliver(Buffer.alloc(0), b);
    port.deliver('three\r\nlines\n', a);
    expect(port.sent.map((d) => [d.data.toString(), d.address])).to.deep.equal([
      ['one', a],
      ['', b],
      ['three\r\nlines\n', a],
    ]);
  });

  it('answers over IPv6 too', () => {
    const port = new MemoryReactor().listenUDP(7, new DatagramEcho(), { interface: '::' });
    const from = addressFor('UDP', '2001:db8::1', 5000);
    port.deliver('v6', from);
    expect(port.sent[0]?.address).to.deep.equal(from);
  });

  it('never answers port 0 or another small service, which would start an endless loop', () => {
    const echo = new DatagramEcho();
    const port = new MemoryReactor().listenUDP(7, echo);
    for (const source of ECHO_LOOP_PORTS)
      port.deliver('loop?', addressFor('UDP', '192.0.2.1', source));
    expect(port.sent).to.have.length(0);
    expect(echo.refused).to.equal(ECHO_LOOP_PORTS.size);
    port.deliver('fine', addressFor('UDP', '192.0.2.1', 1024));
    expect(port.sentTexts()).to.deep.equal(['fine']);
  });
});

describe('@torsion/echo/plugin makeDatagramProtocol', () => {
  const context: PluginContext = {
    reactor: new MemoryReactorClock(),
    log: new Logger('torsion.echo'),
  };

  it('makes a fresh DatagramEcho per call (one per UDP endpoint), whatever --lines says', async () => {
    expect(typeof plugin.makeDatagramProtocol).to.equal('function');
    const first = await plugin.makeDatagramProtocol?.({}, context);
    const second = await plugin.makeDatagramProtocol?.({ lines: true }, context);
    expect(first).to.be.instanceOf(DatagramEcho);
    expect(second).to.be.instanceOf(DatagramEcho);
    expect(first).to.not.equal(second);
  });
});
