// Tests for src/testing/memory-reactor.ts: the recording reactors and their fake ports and connectors.
import { expect } from 'chai';

import { IPv4Address, IPv6Address } from '../../src/address.js';
import type { IAddress } from '../../src/address.js';
import { Deferred } from '../../src/deferred.js';
import {
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
  NotConnectingError,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
  TLSError,
  UserError,
} from '../../src/errors.js';
import { ClientFactory, Factory } from '../../src/factory.js';
import type { Failure } from '../../src/failure.js';
import type {
  IConnector,
  IListeningPort,
  IProtocolFactory,
  IReactorSSL,
  ISSLListeningPort,
} from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import {
  FIRST_FAKE_PORT,
  FakeConnector,
  FakeSSLConnector,
  FakeSSLListeningPort,
  MemoryReactor,
  MemoryReactorClock,
} from '../../src/testing/memory-reactor.js';
import { makeTestCertificates } from '../../src/testing/test-certificates.js';
import {
  optionsForClientTLS,
  serverTLSOptions,
  type ClientTLSOptions,
  type ServerTLSOptions,
} from '../../src/tls-options.js';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

class Greeter extends Protocol {
  override connectionMade(): void {
    this.transport.write('hello\r\n');
  }
}

/** A client factory that records every callback. */
class RecordingClientFactory extends ClientFactory {
  events: string[] = [];
  reasons: Failure[] = [];
  constructor() {
    super();
    this.protocol = Greeter;
  }
  override startFactory(): void {
    this.events.push('startFactory');
  }
  override stopFactory(): void {
    this.events.push('stopFactory');
  }
  override startedConnecting(connector: IConnector): void {
    this.events.push(`startedConnecting ${connector.getDestination().toString()}`);
  }
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.events.push('clientConnectionFailed');
    this.reasons.push(reason);
  }
  override clientConnectionLost(_connector: IConnector, reason: Failure): void {
    this.events.push('clientConnectionLost');
    this.reasons.push(reason);
  }
}

/** A protocol that records connectionMade and handshakeCompleted, in order. */
class HandshakeRecorder extends Protocol {
  static events: string[] = [];
  override connectionMade(): void {
    HandshakeRecorder.events.push('connectionMade');
  }
  handshakeCompleted(): void {
    HandshakeRecorder.events.push('handshakeCompleted');
  }
}

describe('MemoryReactor', () => {
  describe('listenSSL', () => {
    let certs: ReturnType<typeof makeTestCertificates>;
    let options: ServerTLSOptions;
    before(() => {
      certs = makeTestCertificates();
      options = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
    });
    beforeEach(() => {
      HandshakeRecorder.events = [];
    });

    it('records the call with its options and defaults, apart from the TCP calls', async () => {
      const reactor: MemoryReactor = new MemoryReactor();
      const factory = Factory.forProtocol(Echo);
      const port = reactor.listenSSL(8443, factory, options);
      expect(reactor.tcpServers).to.have.length(0);
      expect(reactor.sslServers).to.have.length(1);
      expect(reactor.sslServers[0]).to.include({
        port: 8443,
        factory,
        options,
        backlog: 4096,
        interface: '',
        listeningPort: port,
      });
      expect(port.tlsOptions).to.equal(options);
      const listening: IListeningPort = await port.whenListening();
      expect(listening).to.equal(port);
      expect(port.getHost()).to.deep.include({ type: 'TCP', host: '0.0.0.0', port: 8443 });
      expect(factory.numPorts).to.equal(1);
    });

    it('records backlog and interface, and hands out fake ports shared with listenTCP', () => {
      const reactor = new MemoryReactor();
      const tcp = reactor.listenTCP(0, new Factory());
      const tls = reactor.listenSSL(0, new Factory(), options, {
        backlog: 7,
        interface: '::1',
      });
      expect(reactor.sslServers[0]).to.include({ port: 0, backlog: 7, interface: '::1' });
      expect(tcp.getHost().port).to.equal(FIRST_FAKE_PORT);
      expect(tls.getHost().port).to.equal(FIRST_FAKE_PORT + 1);
      expect(tls.getHost()).to.be.instanceOf(IPv6Address);
    });

    it('setTLSOptions records the latest options, and refuses anything but serverTLSOptions()', () => {
      const reactor = new MemoryReactor();
      const fake: FakeSSLListeningPort = reactor.listenSSL(0, new Factory(), options);
      const port: ISSLListeningPort = fake;
      const renewed = serverTLSOptions({ key: certs.sni.key, cert: certs.sni.cert });
      port.setTLSOptions(renewed);
      expect(fake.tlsOptions).to.equal(renewed);
      expect(fake.setTLSOptionsCalls).to.equal(1);
      expect(reactor.sslServers[0]!.options).to.equal(options);
      const client = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });
      expect(() => port.setTLSOptions(client as unknown as ServerTLSOptions)).to.throw(
        TypeError,
        /serverTLSOptions/,
      );
      expect(fake.tlsOptions).to.equal(renewed);
    });

    it('rejects what a real reactor rejects, client options included, and records nothing', () => {
      const reactor = new MemoryReactor();
      const client = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });
      expect(() =>
        reactor.listenSSL(0, new Factory(), client as unknown as ServerTLSOptions),
      ).to.throw(TypeError, /serverTLSOptions/);
      expect(() => reactor.listenSSL(0, new Factory(), {} as unknown as ServerTLSOptions)).to.throw(
        TypeError,
        /serverTLSOptions/,
      );
      expect(() => reactor.listenSSL(65536, new Factory(), options)).to.throw(RangeError, /port/);
      expect(reactor.sslServers).to.have.length(0);
    });

    it('acceptConnection connects the protocol, then reports the handshake as done', () => {
      const reactor = new MemoryReactor();
      const port = reactor.listenSSL(0, Factory.forProtocol(HandshakeRecorder), options);
      const conn = port.acceptConnection()!;
      expect(conn.protocol).to.be.instanceOf(HandshakeRecorder);
      expect(HandshakeRecorder.events).to.deep.equal(['connectionMade', 'handshakeCompleted']);
      expect(conn.transport.getHost()).to.equal(port.getHost());
      const echo = reactor.listenSSL(0, Factory.forProtocol(Echo), options).acceptConnection()!;
      echo.protocol.dataReceived(Buffer.from('ping'));
      expect(echo.transport.value().toString()).to.equal('ping');
    });
  });

  describe('connectSSL', () => {
    let certs: ReturnType<typeof makeTestCertificates>;
    let options: ClientTLSOptions;
    before(() => {
      certs = makeTestCertificates();
      options = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });
    });
    beforeEach(() => {
      HandshakeRecorder.events = [];
    });

    it('records the call with its options and returns a connector that started connecting', () => {
      const reactor = new MemoryReactor();
      const factory = new RecordingClientFactory();
      const ssl: IReactorSSL = reactor;
      const connector = reactor.connectSSL('localhost', 8443, factory, options, {
        timeout: 5,
        bindAddress: { host: '127.0.0.1' },
      });
      expect(connector).to.be.instanceOf(FakeSSLConnector);
      expect(reactor.tcpClients).to.have.length(0);
      expect(reactor.sslClients).to.have.length(1);
      expect(reactor.sslClients[0]).to.deep.include({
        host: 'localhost',
        port: 8443,
        factory,
        options,
        timeout: 5,
        bindAddress: { host: '127.0.0.1' },
        connector,
      });
      expect(connector.tlsOptions).to.equal(options);
      ssl.connectSSL('localhost', 8443, new ClientFactory(), options);
      expect(reactor.sslClients).to.have.length(2);
      expect(reactor.connectors[0]).to.equal(connector);
      expect(connector.state).to.equal('connecting');
      expect(factory.events).to.deep.equal(['startFactory', 'startedConnecting localhost:8443']);
    });

    it('records the default timeout and no bind address', () => {
      const reactor = new MemoryReactor();
      reactor.connectSSL('::1', 443, new ClientFactory(), options);
      expect(reactor.sslClients[0]).to.include({ timeout: 30, bindAddress: null });
      expect(reactor.connectors[0]!.getDestination()).to.be.instanceOf(IPv6Address);
    });

    it('rejects what a real reactor rejects, server options included, and records nothing', () => {
      const reactor = new MemoryReactor();
      const server = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
      expect(() =>
        reactor.connectSSL(
          'localhost',
          443,
          new ClientFactory(),
          server as unknown as ClientTLSOptions,
        ),
      ).to.throw(TypeError, /optionsForClientTLS/);
      expect(() => reactor.connectSSL('', 443, new ClientFactory(), options)).to.throw(
        TypeError,
        /host/,
      );
      expect(reactor.sslClients).to.have.length(0);
      expect(reactor.connectors).to.have.length(0);
    });

    it('completeConnection connects the protocol, then reports the handshake as done', () => {
      const reactor = new MemoryReactor();
      const factory = new ClientFactory();
      factory.protocol = HandshakeRecorder;
      const connector = reactor.connectSSL('localhost', 443, factory, options);
      const conn = connector.completeConnection()!;
      expect(conn.protocol).to.be.instanceOf(HandshakeRecorder);
      expect(HandshakeRecorder.events).to.deep.equal(['connectionMade', 'handshakeCompleted']);
      expect(connector.state).to.equal('connected');
    });

    it('failConnection with a TLSError reaches clientConnectionFailed, as a failed handshake', () => {
      const reactor = new MemoryReactor();
      const factory = new RecordingClientFactory();
      const connector = reactor.connectSSL('localhost', 443, factory, options);
      connector.failConnection(
        new TLSError('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED', 'unknown certificate authority'),
      );
      expect(factory.events.slice(-2)).to.deep.equal(['clientConnectionFailed', 'stopFactory']);
      expect(factory.reasons[0]!.check(TLSError)).to.equal(TLSError);
    });
  });

  describe('listenTCP', () => {
    it('records the call with its defaults and returns a port that is listening', async () => {
      const reactor = new MemoryReactor();
      const factory = Factory.forProtocol(Echo);
      const port = reactor.listenTCP(1079, factory);
      expect(reactor.tcpServers).to.have.length(1);
      const record = reactor.tcpServers[0]!;
      expect(record).to.include({ port: 1079, factory, backlog: 4096, interface: '' });
      expect(record.listeningPort).to.equal(port);
      const listening: IListeningPort = await port.whenListening();
      expect(listening).to.equal(port);
      expect(port.getHost()).to.deep.include({ host: '0.0.0.0', port: 1079 });
    });

    it('rejects the arguments a real reactor rejects, with the same errors', () => {
      const reactor = new MemoryReactor();
      expect(() => reactor.listenTCP(-1, new Factory())).to.throw(RangeError, /port/);
      expect(() => reactor.listenTCP(65536, new Factory())).to.throw(RangeError, /port/);
      expect(() => reactor.listenTCP(0, new Factory(), { backlog: -1 })).to.throw(
        RangeError,
        /backlog/,
      );
      expect(() => reactor.listenTCP(0, {} as unknown as IProtocolFactory)).to.throw(
        TypeError,
        /buildProtocol/,
      );
      expect(() => reactor.connectTCP('', 80, new ClientFactory())).to.throw(TypeError, /host/);
      expect(() => reactor.connectTCP('h', 0, new ClientFactory())).to.throw(RangeError, /port/);
      expect(() => reactor.connectTCP('h', 80, new ClientFactory(), { timeout: 0 })).to.throw(
        RangeError,
        /timeout/,
      );
      expect(reactor.tcpServers).to.have.length(0);
      expect(reactor.tcpClients).to.have.length(0);
    });

    it('records backlog and interface and reports an IPv6 host for an IPv6 interface', () => {
      const reactor = new MemoryReactor();
      const port = reactor.listenTCP(80, new Factory(), { backlog: 5, interface: '::1' });
      expect(reactor.tcpServers[0]).to.include({ backlog: 5, interface: '::1' });
      expect(port.getHost()).to.be.instanceOf(IPv6Address);
    });

    it('assigns deterministic fake ports when 0 is asked for', () => {
      const reactor = new MemoryReactor();
      const a = reactor.listenTCP(0, new Factory(), { interface: '127.0.0.1' });
      const b = reactor.listenTCP(0, new Factory());
      expect(a.getHost().port).to.equal(FIRST_FAKE_PORT);
      expect(b.getHost().port).to.equal(FIRST_FAKE_PORT + 1);
      expect(reactor.tcpServers[0]!.port).to.equal(0);
    });

    it('starts the factory, and stopListening stops it once and fires', async () => {
      const reactor = new MemoryReactor();
      const factory = Factory.forProtocol(Echo);
      const port = reactor.listenTCP(0, factory);
      expect(factory.numPorts).to.equal(1);
      await port.stopListening();
      await port.stopListening();
      expect(port.stopped).to.equal(true);
      expect(factory.numPorts).to.equal(0);
    });

    it('acceptConnection builds a protocol on a StringTransport, as a client connecting', () => {
      const reactor = new MemoryReactor();
      const port = reactor.listenTCP(7, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
      const conn = port.acceptConnection()!;
      conn.protocol.dataReceived(Buffer.from('ping'));
      expect(conn.transport.value().toString()).to.equal('ping');
      expect(conn.transport.getHost()).to.equal(port.getHost());
      expect(conn.transport.getPeer().host).to.equal('127.0.0.1');
    });

    it('acceptConnection returns null when the factory refuses and throws once stopped', () => {
      const reactor = new MemoryReactor();
      const refusing = new Factory();
      refusing.buildProtocol = () => null;
      const port = reactor.listenTCP(7, refusing);
      const peer: IAddress = new IPv4Address('TCP', '127.0.0.5', 999);
      expect(port.acceptConnection(peer)).to.equal(null);
      void port.stopListening();
      expect(() => port.acceptConnection()).to.throw(Error, /stopped/);
    });
  });

  describe('connectTCP', () => {
    it('records the call and returns a connector that started connecting', () => {
      const reactor = new MemoryReactor();
      const factory = new RecordingClientFactory();
      const connector = reactor.connectTCP('127.0.0.1', 1079, factory, { timeout: 5 });
      expect(reactor.tcpClients[0]).to.include({
        host: '127.0.0.1',
        port: 1079,
        factory,
        timeout: 5,
        bindAddress: null,
        connector,
      });
      expect(reactor.connectors).to.deep.equal([connector]);
      expect(connector.state).to.equal('connecting');
      expect(connector.connectCalls).to.equal(1);
      expect(factory.events).to.deep.equal(['startFactory', 'startedConnecting 127.0.0.1:1079']);
    });

    it('records the default timeout and a bind address', () => {
      const reactor = new MemoryReactor();
      reactor.connectTCP('::1', 1, new ClientFactory(), { bindAddress: { host: '::1' } });
      expect(reactor.tcpClients[0]!.timeout).to.equal(30);
      expect(reactor.tcpClients[0]!.bindAddress).to.deep.equal({ host: '::1' });
      expect(reactor.connectors[0]!.getDestination()).to.be.instanceOf(IPv6Address);
    });
  });

  describe('lifecycle', () => {
    it('run() fires startup triggers in phase order, then callWhenRunning calls', () => {
      const reactor = new MemoryReactor();
      const order: string[] = [];
      reactor.callWhenRunning((what: string) => order.push(what), 'whenRunning');
      reactor.addSystemEventTrigger('after', 'startup', () => order.push('after'));
      reactor.addSystemEventTrigger('before', 'startup', () => order.push('before'));
      reactor.addSystemEventTrigger('during', 'startup', () => order.push('during'));
      void reactor.run();
      expect(order).to.deep.equal(['before', 'during', 'after', 'whenRunning']);
      expect(reactor.running).to.equal(true);
      expect(reactor.hasRun).to.equal(true);
    });

    it('callWhenRunning on a running reactor calls at once', () => {
      const reactor = new MemoryReactor();
      void reactor.run();
      let called = false;
      reactor.callWhenRunning(() => (called = true));
      expect(called).to.equal(true);
    });

    it('stop() fires shutdown triggers and settles the run() promise', async () => {
      const reactor = new MemoryReactor();
      const order: string[] = [];
      reactor.addSystemEventTrigger('during', 'shutdown', () => order.push('during'));
      reactor.addSystemEventTrigger('before', 'shutdown', () => order.push('before'));
      const finished = reactor.run();
      reactor.stop();
      await finished;
      expect(order).to.deep.equal(['before', 'during']);
      expect(reactor.running).to.equal(false);
      expect(reactor.hasStopped).to.equal(true);
    });

    it('waits for a Deferred returned by a trigger before the next phase', async () => {
      const reactor = new MemoryReactor();
      const order: string[] = [];
      const gate = new Deferred<void>();
      reactor.addSystemEventTrigger('before', 'shutdown', () => gate);
      reactor.addSystemEventTrigger('after', 'shutdown', () => order.push('after'));
      const finished = reactor.run();
      reactor.stop();
      expect(order).to.deep.equal([]);
      expect(reactor.running).to.equal(true);
      gate.callback(undefined);
      await finished;
      expect(order).to.deep.equal(['after']);
    });

    it('removeSystemEventTrigger forgets a trigger', () => {
      const reactor = new MemoryReactor();
      let called = false;
      const id = reactor.addSystemEventTrigger('during', 'startup', () => (called = true));
      reactor.removeSystemEventTrigger(id);
      reactor.removeSystemEventTrigger(id);
      void reactor.run();
      expect(called).to.equal(false);
      expect(reactor.triggers).to.deep.equal([]);
    });

    it('logs an error thrown by a trigger and runs the rest', () => {
      const logs = LogCapture.start();
      const reactor = new MemoryReactor();
      let later = false;
      try {
        reactor.addSystemEventTrigger('before', 'startup', () => {
          throw new Error('trigger broke');
        });
        reactor.addSystemEventTrigger('after', 'startup', () => (later = true));
        void reactor.run();
      } finally {
        logs.stop();
      }
      expect(later).to.equal(true);
      expect(logs.failures().map((f) => f.getErrorMessage())).to.deep.equal(['trigger broke']);
    });

    it('refuses to run twice, to restart, or to stop when not running', async () => {
      const reactor = new MemoryReactor();
      expect(() => reactor.stop()).to.throw(ReactorNotRunning);
      const finished = reactor.run();
      expect(() => reactor.run()).to.throw(ReactorAlreadyRunning);
      reactor.stop();
      expect(() => reactor.stop()).to.throw(ReactorNotRunning);
      await finished;
      expect(() => reactor.run()).to.throw(ReactorNotRestartable);
    });
  });
});

describe('FakeConnector', () => {
  function connect(): { factory: RecordingClientFactory; connector: FakeConnector } {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    const connector = reactor.connectTCP('127.0.0.1', 1079, factory);
    factory.events = [];
    return { factory, connector };
  }

  it('failConnection reports a refusal to the factory and stops it', () => {
    const { factory, connector } = connect();
    connector.failConnection();
    expect(connector.state).to.equal('disconnected');
    expect(factory.events).to.deep.equal(['clientConnectionFailed', 'stopFactory']);
    expect(factory.reasons[0]!.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
  });

  it('completeConnection builds the protocol on a StringTransport', () => {
    const { connector } = connect();
    const conn = connector.completeConnection()!;
    expect(connector.state).to.equal('connected');
    expect(connector.connection).to.equal(conn);
    expect(conn.transport.value().toString()).to.equal('hello\r\n');
    expect(conn.transport.getPeer().toString()).to.equal('127.0.0.1:1079');
  });

  it('dropConnection tells the protocol and then the factory', () => {
    const { factory, connector } = connect();
    const conn = connector.completeConnection()!;
    const lost: Failure[] = [];
    conn.protocol.connectionLost = (reason: Failure): void => {
      lost.push(reason);
      factory.events.push('connectionLost');
    };
    connector.dropConnection();
    expect(factory.events).to.deep.equal(['connectionLost', 'clientConnectionLost', 'stopFactory']);
    expect(lost[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(connector.connection).to.equal(null);
  });

  it('keeps the factory started when it reconnects from its callback', () => {
    const { factory, connector } = connect();
    factory.clientConnectionFailed = (c: IConnector): void => c.connect();
    connector.failConnection();
    expect(connector.state).to.equal('connecting');
    expect(connector.connectCalls).to.equal(2);
    expect(factory.events).to.deep.equal(['startedConnecting 127.0.0.1:1079']);
  });

  it('stopConnecting fails the attempt with a UserError (a ConnectError), as a real connector', () => {
    const { factory, connector } = connect();
    connector.stopConnecting();
    expect(connector.stopConnectingCalls).to.equal(1);
    expect(factory.reasons[0]!.check(UserError)).to.equal(UserError);
    expect(factory.reasons[0]!.check(ConnectError)).to.equal(ConnectError);
    expect(() => connector.stopConnecting()).to.throw(NotConnectingError, /disconnected/);
    expect(connector.stopConnectingCalls).to.equal(1);
  });

  it('stopConnecting on a connected connector throws NotConnectingError, as a real connector', () => {
    const { connector } = connect();
    connector.completeConnection();
    expect(() => connector.stopConnecting())
      .to.throw(NotConnectingError, /connected/)
      .with.property('code', 'TORSION_ERR_NOT_CONNECTING');
    expect(connector.state).to.equal('connected');
  });

  it('disconnect stops an attempt, or closes the established connection', () => {
    const first = connect();
    first.connector.disconnect();
    expect(first.connector.state).to.equal('disconnected');
    const second = connect();
    const conn = second.connector.completeConnection()!;
    second.connector.disconnect();
    expect(conn.transport.disconnecting).to.equal(true);
    expect(second.connector.disconnectCalls).to.equal(1);
  });

  it('refuses to connect twice or to end an attempt that is not in progress', () => {
    const { connector } = connect();
    expect(() => connector.connect()).to.throw(Error, /connecting/);
    expect(() => connector.dropConnection()).to.throw(Error);
    connector.failConnection();
    expect(() => connector.failConnection()).to.throw(Error);
    expect(() => connector.completeConnection()).to.throw(Error);
  });

  it('completeConnection ends as a loss when the factory refuses', () => {
    const { factory, connector } = connect();
    factory.buildProtocol = () => null;
    expect(connector.completeConnection()).to.equal(null);
    expect(factory.events).to.deep.equal(['clientConnectionLost', 'stopFactory']);
  });
});

describe('MemoryReactorClock', () => {
  it('runs callLater calls only when the test advances time', () => {
    const reactor = new MemoryReactorClock();
    const calls: number[] = [];
    reactor.callLater(2, () => calls.push(reactor.seconds()));
    expect(reactor.getDelayedCalls()).to.have.length(1);
    reactor.advance(1);
    expect(calls).to.deep.equal([]);
    reactor.pump([0.5, 0.5]);
    expect(calls).to.deep.equal([2]);
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('records TCP calls like MemoryReactor', () => {
    const reactor = new MemoryReactorClock();
    reactor.listenTCP(0, new Factory());
    expect(reactor.tcpServers).to.have.length(1);
  });

  it('records TLS calls like MemoryReactor, its connectors reporting it as their reactor', () => {
    const reactor = new MemoryReactorClock();
    const certs = makeTestCertificates();
    reactor.listenSSL(0, new Factory(), serverTLSOptions(certs.server));
    const connector = reactor.connectSSL(
      'localhost',
      443,
      new ClientFactory(),
      optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }),
    );
    expect(reactor.sslServers).to.have.length(1);
    expect(reactor.sslClients).to.have.length(1);
    expect(connector.reactor).to.equal(reactor);
  });
});
