import { expect } from 'chai';
import { MemoryReactor, RecordingDatagramProtocol } from '../../src/testing/index.js';

describe('MemoryReactor.listenUDP / FakeUDPPort', () => {
  it('records each call with its options and the port it returned', () => {
    const reactor = new MemoryReactor();
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1', maxPacketSize: 512 });
    expect(reactor.udpPorts).to.have.length(1);
    const [record] = reactor.udpPorts;
    expect(record?.port).to.equal(0);
    expect(record?.protocol).to.equal(protocol);
    expect(record?.interface).to.equal('127.0.0.1');
    expect(record?.maxPacketSize).to.equal(512);
    expect(record?.listenMultiple).to.equal(false);
    expect(record?.udpPort).to.equal(port);
    expect(port.getHost().port).to.equal(49152);
    expect(reactor.listenUDP(0, new RecordingDatagramProtocol()).getHost().port).to.equal(49153);
  });

  it('is listening at once: whenListening fires and the protocol has started', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(53, protocol);
    expect(await port.whenListening()).to.equal(port);
    expect(protocol.events).to.deep.equal(['startProtocol']);
  });

  it('records sent datagrams as copies', () => {
    const port = new MemoryReactor().listenUDP(0, new RecordingDatagramProtocol());
    const data = Buffer.from('abc');
    port.transport.write(data, { host: '127.0.0.1', port: 9 });
    data.write('xyz');
    expect(port.sentTexts()).to.deep.equal(['abc']);
  });
});
