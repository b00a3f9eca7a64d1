// listenTCP on Bun: binding at once, port 0, interfaces, bind failures as a
// failed whenListening() (never a throw), stopListening, and the factory's
// doStart/doStop reference counting.
import { expect } from 'chai';
import { addLogObserver, CannotListenError, ConnectionRefusedError } from '@torsion/core';
import type { Failure, IAddress, LogEvent } from '@torsion/core';
import { BunReactor } from '../src/index.js';
import { RecordingClientFactory, RecordingFactory, RecordingProtocol } from '@torsion/core/testing';
import { RawPeer, turns } from './support/helpers.js';

describe('BunReactor.listenTCP (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;
  let events: LogEvent[];
  let removeObserver: () => void;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    events = [];
    removeObserver = addLogObserver((e) => events.push(e));
  });

  afterEach(async () => {
    removeObserver();
    if (reactor.running) reactor.stop();
    await done;
  });

  it('binds port 0 before returning: getHost() has the real port, doStart has run', async () => {
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
    expect(port.getHost().port).to.be.above(0);
    expect(port.getHost().host).to.equal('127.0.0.1');
    expect(factory.starts).to.equal(1);
    expect(await port.whenListening()).to.equal(port);
    const peer = await RawPeer.connect(port.getHost().port);
    expect(peer.socket.remotePort).to.equal(port.getHost().port);
  });

  it('listens on every interface by default', async () => {
    const port = reactor.listenTCP(0, new RecordingFactory(() => new RecordingProtocol()));
    await port.whenListening();
    expect(['::', '0.0.0.0']).to.include(port.getHost().host);
    const peer = await RawPeer.connect(port.getHost().port, '127.0.0.1');
    expect(peer.closed).to.equal(false);
  });

  it('fails whenListening() with CannotListenError (cause EADDRINUSE) for a port in use, without throwing', async () => {
    const first = await reactor
      .listenTCP(0, new RecordingFactory(() => new RecordingProtocol()), { interface: '127.0.0.1' })
      .whenListening();
    const taken = first.getHost().port;
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const second = reactor.listenTCP(taken, factory, { interface: '127.0.0.1' });
    let failure: Failure | null = null;
    await new Promise<void>((resolve) => {
      second.whenListening().addErrback((f: Failure) => {
        failure = f;
        resolve();
      });
    });
    const f = failure as unknown as Failure;
    expect(f.check(CannotListenError)).to.equal(CannotListenError);
    expect((f.value.cause as { code?: string }).code).to.equal('EADDRINUSE');
    expect(factory.starts).to.equal(0);
    await turns(2);
    // Somebody asked, so nothing was logged at error level.
    expect(events.filter((e) => e.level === 'error')).to.have.length(0);
    await second.stopListening();
    expect(factory.stops).to.equal(0);
  });

  it('logs a bind failure nobody asked about', async () => {
    const first = await reactor
      .listenTCP(0, new RecordingFactory(() => new RecordingProtocol()), { interface: '127.0.0.1' })
      .whenListening();
    reactor.listenTCP(first.getHost().port, new RecordingFactory(() => new RecordingProtocol()), {
      interface: '127.0.0.1',
    });
    await turns(2);
    const errors = events.filter((e) => e.level === 'error');
    expect(errors.map((e) => e.message)).to.deep.equal(['Could not listen']);
  });

  it('fails with EADDRNOTAVAIL for an address this machine does not have', async () => {
    // TEST-NET-1 (RFC 5737): binding fails locally; nothing is sent anywhere.
    const port = reactor.listenTCP(0, new RecordingFactory(() => new RecordingProtocol()), {
      interface: '192.0.2.1',
    });
    const f = await new Promise<Failure>((resolve) => {
      port.whenListening().addErrback((failure: Failure) => {
        resolve(failure);
      });
    });
    expect(f.check(CannotListenError)).to.equal(CannotListenError);
    expect((f.value.cause as { code?: string }).code).to.equal('EADDRNOTAVAIL');
  });

  it('stops listening: new connections are refused, existing ones stay, doStop runs once', async () => {
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
    const portNumber = port.getHost().port;
    const peer = await RawPeer.connect(portNumber);
    const [server] = await factory.waitForBuilt(1);
    await port.stopListening();
    expect(factory.stops).to.equal(1);
    await port.stopListening();
    expect(factory.stops).to.equal(1);
    const client = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectTCP('127.0.0.1', portNumber, client);
    const reason = await client.failed;
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    peer.socket.write('still open');
    await server!.waitForBytes(10);
    expect(server!.received().toString()).to.equal('still open');
  });

  it('starts a factory once for two ports and stops it after the last', async () => {
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const a = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
    const b = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
    expect(factory.starts).to.equal(1);
    await a.stopListening();
    expect(factory.stops).to.equal(0);
    await b.stopListening();
    expect(factory.stops).to.equal(1);
  });

  it('closes a connection whose buildProtocol returns null or throws, and keeps serving', async () => {
    let n = 0;
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const original = factory.buildProtocol.bind(factory);
    factory.buildProtocol = ((addr: IAddress) => {
      n++;
      if (n === 1) return null;
      if (n === 2) throw new Error('no protocol for you');
      return original(addr);
    }) as typeof factory.buildProtocol;
    const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).getHost().port;
    const refused = await RawPeer.connect(port);
    await refused.gotEnd;
    const failed = await RawPeer.connect(port);
    await failed.gotEnd;
    const ok = await RawPeer.connect(port);
    ok.socket.write('hi');
    const [server] = await factory.waitForBuilt(1);
    await server!.waitForBytes(2);
    expect(events.filter((e) => e.level === 'error').map((e) => e.message)).to.deep.equal([
      'Unhandled error in RecordingFactory.buildProtocol; connection closed',
    ]);
  });
});
