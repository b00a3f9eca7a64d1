import { expect } from 'chai';
import { IPv4Address } from '../src/address.js';
import { ConnectionDone } from '../src/errors.js';
import { Failure } from '../src/failure.js';
import type { ITransport } from '../src/interfaces.js';
import { Protocol } from '../src/protocol.js';

function recordingTransport(): ITransport & { written: string[] } {
  const address = new IPv4Address('TCP', '127.0.0.1', 1);
  const written: string[] = [];
  return {
    written,
    disconnecting: false,
    write: (data) => written.push(String(data)),
    writeSequence: (items) => {
      for (const item of items) written.push(String(item));
    },
    loseConnection: () => {},
    getHost: () => address,
    getPeer: () => address,
  };
}

describe('Protocol', () => {
  it('makeConnection() attaches the transport, marks it connected, then calls connectionMade()', () => {
    const seen: boolean[] = [];
    class Greeter extends Protocol {
      override connectionMade(): void {
        seen.push(this.connected);
        this.transport.write('hello');
      }
    }
    const transport = recordingTransport();
    const protocol = new Greeter();
    expect(protocol.connected).to.equal(false);
    expect(protocol.hasTransport).to.equal(false);
    protocol.makeConnection(transport);
    expect(seen).to.deep.equal([true]);
    expect(protocol.transport).to.equal(transport);
    expect(transport.written).to.deep.equal(['hello']);
  });

  it('the transport getter explains itself before makeConnection()', () => {
    class Early extends Protocol {}
    expect(() => new Early().transport).to.throw(/Early has no transport yet/);
  });

  it('default hooks do nothing', () => {
    const protocol = new Protocol();
    protocol.makeConnection(recordingTransport());
    expect(() => {
      protocol.dataReceived(Buffer.from('x'));
      protocol.connectionLost(new Failure(new ConnectionDone()));
    }).not.to.throw();
  });
});
