import { expect } from 'chai';
import { addressFor } from '../src/address.js';
import { DatagramProtocol } from '../src/datagram-protocol.js';
import { MemoryReactor } from '../src/testing/index.js';

describe('DatagramProtocol', () => {
  it('has no transport until makeConnection(), and says so by name', () => {
    class Quiet extends DatagramProtocol {}
    const protocol = new Quiet();
    expect(protocol.hasTransport).to.equal(false);
    expect(() => protocol.transport).to.throw(Error, /Quiet has no transport yet/);
  });

  it('every hook does nothing by default', () => {
    const protocol = new DatagramProtocol();
    protocol.startProtocol();
    protocol.datagramReceived(Buffer.from('x'), addressFor('UDP', '127.0.0.1', 1));
    protocol.connectionRefused();
    protocol.stopProtocol();
  });

  it('a port attaches its transport before startProtocol()', () => {
    const seen: boolean[] = [];
    class Starter extends DatagramProtocol {
      override startProtocol(): void {
        seen.push(this.hasTransport);
        this.transport.write('first', { host: '192.0.2.1', port: 53 });
      }
    }
    const port = new MemoryReactor().listenUDP(0, new Starter());
    expect(seen).to.deep.equal([true]);
    expect(port.sentTexts()).to.deep.equal(['first']);
    expect(port.sent[0]?.address.toString()).to.equal('192.0.2.1:53');
  });
});
