// Tests for MemoryReactor's UNIX side (src/testing/memory-reactor.ts): listenUNIX and
// connectUNIX are recorded like listenTCP/connectTCP, with fake ports and connectors
// typed by UNIXAddress and StringTransports that report UNIX addresses.
import { expect } from 'chai';
import { UNIXAddress } from '../../src/address.js';
import { ConnectionDone, ConnectionRefusedError } from '../../src/errors.js';
import type { IListeningPort, IReactorUNIX, IUNIXTransport } from '../../src/interfaces.js';
import {
  MemoryReactor,
  MemoryReactorClock,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
  StringTransport,
} from '../../src/testing/index.js';

describe('MemoryReactor UNIX', () => {
  it('listenUNIX records the call with its defaults and returns a listening port on the path', async () => {
    const reactor: MemoryReactor & IReactorUNIX = new MemoryReactor();
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const port = reactor.listenUNIX('/run/app.sock', factory);
    expect(reactor.unixServers).to.have.length(1);
    expect(reactor.unixServers[0]).to.include({
      path: '/run/app.sock',
      factory,
      backlog: 4096,
      mode: 0o666,
      wantPID: false,
      listeningPort: port,
    });
    const listening: IListeningPort<UNIXAddress> = await port.whenListening();
    expect(listening).to.equal(port);
    expect(port.getHost().name).to.equal('/run/app.sock');
    expect(reactor.tcpServers).to.have.length(0);
  });

  it('records mode, backlog and wantPID as given', () => {
    const reactor = new MemoryReactor();
    reactor.listenUNIX('/tmp/a', new RecordingFactory(() => new RecordingProtocol()), {
      mode: 0o600,
      backlog: 5,
      wantPID: true,
    });
    expect(reactor.unixServers[0]).to.include({ mode: 0o600, backlog: 5, wantPID: true });
  });

  it('acceptConnection connects a protocol to a transport with UNIX addresses (the client unnamed)', () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const port = reactor.listenUNIX('/tmp/s', factory);
    const connection = port.acceptConnection();
    expect(connection).to.not.equal(null);
    const transport: IUNIXTransport = connection!.transport;
    expect(transport.getHost().name).to.equal('/tmp/s');
    expect(transport.getPeer()).to.deep.equal(new UNIXAddress(null));
    expect(factory.addresses[0]?.family).to.equal('UNIX');
    connection!.protocol.dataReceived(Buffer.from('hi'));
    expect(factory.built[0]?.text()).to.equal('hi');
  });

  it('connectUNIX records the call and returns a connector the test completes, fails or drops', async () => {
    const reactor = new MemoryReactorClock();
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = reactor.connectUNIX('/tmp/c', factory, { timeout: 5, checkPID: true });
    expect(reactor.unixClients[0]).to.include({
      path: '/tmp/c',
      factory,
      timeout: 5,
      checkPID: true,
      connector,
    });
    expect(connector.reactor).to.equal(reactor);
    expect(connector.state).to.equal('connecting');
    expect(connector.getDestination().name).to.equal('/tmp/c');
    const connection = connector.completeConnection();
    expect(connection!.transport.getPeer().name).to.equal('/tmp/c');
    expect(connection!.transport.getHost()).to.deep.equal(new UNIXAddress(null));
    connector.dropConnection();
    expect(factory.events).to.include('clientConnectionLost');
    expect((await factory.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    connector.connect();
    connector.failConnection();
    expect((await factory.failed).check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
  });

  it('rejects the arguments a real reactor rejects, with the same errors', () => {
    const reactor = new MemoryReactor();
    const f = new RecordingFactory(() => new RecordingProtocol());
    expect(() => reactor.listenUNIX('', f)).to.throw(TypeError, /path/);
    expect(() => reactor.listenUNIX('x'.repeat(200), f)).to.throw(RangeError, /107 bytes/);
    expect(() => reactor.listenUNIX('/tmp/m', f, { mode: 0o10000 })).to.throw(RangeError, /mode/);
    expect(() =>
      reactor.connectUNIX('/tmp/t', new RecordingClientFactory(() => new RecordingProtocol()), {
        timeout: -1,
      }),
    ).to.throw(RangeError, /timeout/);
    expect(reactor.unixServers).to.have.length(0);
    expect(reactor.unixClients).to.have.length(0);
  });

  it('a StringTransport typed by UNIXAddress defaults the missing end to an unnamed address', () => {
    const transport = new StringTransport<UNIXAddress>({ peerAddress: new UNIXAddress('/p') });
    expect(transport.getHost()).to.deep.equal(new UNIXAddress(null));
    expect(new StringTransport().getHost().port).to.equal(12345);
  });
});
