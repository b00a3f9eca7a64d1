import { expect } from 'chai';
import { addressFor } from '../../src/address.js';
import { MemoryReactor, RecordingDatagramProtocol } from '../../src/testing/index.js';

describe('RecordingDatagramProtocol', () => {
  it('records each callback in order and each datagram with its address', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(0, protocol);
    await protocol.started;
    const from = addressFor('UDP', '192.0.2.7', 9);
    port.deliver('a', from);
    port.deliver(Buffer.from('b'), from);
    const got = await protocol.waitForDatagrams(2);
    expect(got.map((d) => d.address)).to.deep.equal([from, from]);
    expect(protocol.texts()).to.deep.equal(['a', 'b']);
    port.transport.connect('192.0.2.7', 9);
    port.refuse();
    await protocol.refused;
    await port.stopListening();
    await protocol.stopped;
    expect(protocol.events).to.deep.equal([
      'startProtocol',
      'datagramReceived',
      'datagramReceived',
      'connectionRefused',
      'stopProtocol',
    ]);
  });

  it('waitForDatagrams rejects when the port stops first', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(0, protocol);
    const waiting = protocol.waitForDatagrams(1);
    await port.stopListening();
    let error: unknown;
    try {
      await waiting;
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/port stopped after 0 of 1/);
  });
});
