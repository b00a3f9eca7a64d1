import { expect } from 'chai';
import {
  ConnectionDone,
  Factory,
  Failure,
  IPv4Address,
  isDrainable,
  Protocol,
  type IAddress,
  type IProtocol,
  type IPushProducer,
  type ITransport,
} from '@torsion/core';
import {
  EchoingProtocol,
  HalfCloseRecordingProtocol,
  LogCapture,
  RecordingProtocol,
  StringTransport,
  connectedServerAndClient,
} from '@torsion/core/testing';

import { ProtocolWrapper, WrappingFactory } from '../src/index.js';

/** The wrapper a factory built, checked. */
function wrapperOf(protocol: IProtocol | null): ProtocolWrapper {
  if (!(protocol instanceof ProtocolWrapper)) throw new Error('not a ProtocolWrapper');
  return protocol;
}

/** The protocol inside a wrapper, checked against its class. */
function innerOf<P extends IProtocol>(protocol: IProtocol | null, Class: new () => P): P {
  const inner = wrapperOf(protocol).wrappedProtocol;
  if (!(inner instanceof Class)) throw new Error(`not a ${Class.name}`);
  return inner;
}

class Thrower extends Protocol {
  override dataReceived(): void {
    throw new Error('boom');
  }
}

describe('ProtocolWrapper / WrappingFactory', () => {
  it('wraps the protocols a factory builds: bytes flow both ways unchanged', () => {
    const factory = new WrappingFactory(Factory.forProtocol(EchoingProtocol));
    const { client, server, pump } = connectedServerAndClient({
      serverFactory: factory,
      clientProtocol: new RecordingProtocol(),
    });
    expect(server).to.be.instanceOf(ProtocolWrapper);
    expect(wrapperOf(server).wrappedProtocol).to.be.instanceOf(EchoingProtocol);
    expect([...factory.protocols]).to.deep.equal([server]);
    client.transport.write('hello');
    client.transport.writeSequence(['a', 'b']);
    pump.flush();
    expect(client.text()).to.equal('helloab');
  });

  it('the wrapped protocol sees the wrapper as its transport, with the real addresses', () => {
    const inner = new RecordingProtocol();
    const transport = new StringTransport();
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Factory()), inner);
    wrapper.makeConnection(transport);
    expect(inner.transport).to.equal(wrapper);
    expect(inner.connected).to.equal(true);
    expect(wrapper.getPeer()).to.deep.equal(transport.getPeer());
    expect(wrapper.getHost()).to.deep.equal(transport.getHost());
    inner.transport.write('x');
    expect(transport.value().toString()).to.equal('x');
  });

  it('forgets a connection once it is lost, and the wrapped protocol hears the reason', () => {
    const factory = new WrappingFactory(Factory.forProtocol(RecordingProtocol));
    const wrapper = wrapperOf(factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1)));
    wrapper.makeConnection(new StringTransport());
    expect(factory.protocols.size).to.equal(1);
    const reason = new Failure(new ConnectionDone());
    wrapper.connectionLost(reason);
    expect(factory.protocols.size).to.equal(0);
    const inner = innerOf(wrapper, RecordingProtocol);
    expect(inner.reason).to.equal(reason);
    expect(inner.connected).to.equal(false);
  });

  it('a refusal by the wrapped factory stays a refusal', () => {
    const refusing = new Factory();
    refusing.buildProtocol = () => null;
    expect(new WrappingFactory(refusing).buildProtocol(new IPv4Address('TCP', '::1', 1))).to.equal(
      null,
    );
  });

  it('passes start, stop and the client callbacks on', () => {
    const calls: string[] = [];
    const wrapped = {
      doStart: () => calls.push('start'),
      doStop: () => calls.push('stop'),
      buildProtocol: () => null,
      startedConnecting: () => calls.push('started'),
      clientConnectionFailed: () => calls.push('failed'),
      clientConnectionLost: () => calls.push('lost'),
    };
    const factory = new WrappingFactory(wrapped);
    factory.doStart();
    factory.startedConnecting(null as never);
    factory.clientConnectionFailed(null as never, new Failure(new Error('x')));
    factory.clientConnectionLost(null as never, new Failure(new Error('x')));
    factory.doStop();
    expect(calls).to.deep.equal(['start', 'started', 'failed', 'lost', 'stop']);
    // A server factory has no client callbacks: calling them is harmless.
    new WrappingFactory(new Factory()).startedConnecting(null as never);
  });

  it('half-close: a half-closeable wrapped protocol hears its own FIN go out', () => {
    const { client, server, pump } = connectedServerAndClient({
      serverFactory: new WrappingFactory(Factory.forProtocol(HalfCloseRecordingProtocol)),
      clientProtocol: new HalfCloseRecordingProtocol(),
    });
    const inner = innerOf(server, HalfCloseRecordingProtocol);
    inner.transport.write('banner');
    inner.transport.loseWriteConnection();
    pump.flush();
    expect(inner.events).to.include('writeConnectionLost');
    expect(client.events).to.include('readConnectionLost');
    expect(client.text()).to.equal('banner');
  });

  it("half-close: a half-closeable wrapped protocol hears the peer's FIN and may still reply", () => {
    const { client, server, pump } = connectedServerAndClient({
      serverFactory: new WrappingFactory(Factory.forProtocol(HalfCloseRecordingProtocol)),
      clientProtocol: new HalfCloseRecordingProtocol(),
    });
    const inner = innerOf(server, HalfCloseRecordingProtocol);
    client.transport.write('req');
    client.transport.loseWriteConnection();
    pump.flush();
    expect(inner.events).to.deep.equal(['connectionMade', 'readConnectionLost']);
    expect(inner.text()).to.equal('req');
    inner.transport.write('reply');
    inner.transport.loseConnection();
    pump.flush();
    expect(client.text()).to.equal('reply');
    expect(inner.lostCount).to.equal(1);
  });

  it('half-close: a wrapper around a protocol without the callbacks has none either, so the FIN ends the connection', () => {
    const { client, server, pump } = connectedServerAndClient({
      serverFactory: new WrappingFactory(Factory.forProtocol(RecordingProtocol)),
      clientProtocol: new HalfCloseRecordingProtocol(),
    });
    expect(wrapperOf(server).readConnectionLost).to.equal(undefined);
    expect(wrapperOf(server).handshakeCompleted).to.equal(undefined);
    client.transport.loseWriteConnection();
    pump.flush();
    const inner = innerOf(server, RecordingProtocol);
    expect(inner.lostCount).to.equal(1);
  });

  it('forwards handshakeCompleted and tlsStarting when the wrapped protocol has them', () => {
    const calls: string[] = [];
    class Tls extends Protocol {
      handshakeCompleted(): void {
        calls.push('handshake');
      }
      tlsStarting(): void {
        calls.push('starting');
      }
    }
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Factory()), new Tls());
    wrapper.handshakeCompleted?.();
    wrapper.tlsStarting?.();
    expect(calls).to.deep.equal(['handshake', 'starting']);
  });

  it('exposes the TLS and TCP members only when the real transport has them', () => {
    const factory = new WrappingFactory(new Factory());
    const plain = new ProtocolWrapper(factory, new Protocol());
    const bare: ITransport = {
      write() {},
      writeSequence() {},
      loseConnection() {},
      getHost: () => new IPv4Address('TCP', '127.0.0.1', 1),
      getPeer: () => new IPv4Address('TCP', '127.0.0.1', 2),
      disconnecting: false,
    };
    plain.makeConnection(bare);
    expect(plain.startTLS).to.equal(undefined);
    expect(plain.secure).to.equal(undefined);
    expect(plain.setTcpNoDelay).to.equal(undefined);

    const tls = new ProtocolWrapper(factory, new Protocol());
    let started: unknown = null;
    const real = Object.assign(new StringTransport(), {
      secure: true,
      negotiatedProtocol: 'h2',
      startTLS(options: unknown) {
        started = options;
      },
      getTLSVersion: () => 'TLSv1.3',
      getCipher: () => null,
      getPeerCertificate: () => null,
    });
    tls.makeConnection(real);
    expect(tls.secure).to.equal(true);
    expect(tls.negotiatedProtocol).to.equal('h2');
    expect(tls.getTLSVersion?.()).to.equal('TLSv1.3');
    tls.startTLS?.('opts' as never);
    expect(started).to.equal('opts');
    tls.setTcpNoDelay?.(true);
    expect(tls.getTcpNoDelay?.()).to.equal(true);
  });

  it('passes producers, pausing, aborting and closing to the real transport', () => {
    const transport = new StringTransport();
    const inner = new Protocol();
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Factory()), inner);
    wrapper.makeConnection(transport);
    const producer: IPushProducer = {
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    };
    wrapper.registerProducer(producer, true);
    expect(transport.producer).to.equal(producer);
    wrapper.unregisterProducer();
    expect(transport.producer).to.equal(null);
    wrapper.pauseProducing();
    expect(transport.producerState).to.equal('paused');
    wrapper.resumeProducing();
    expect(transport.producerState).to.equal('producing');
    wrapper.loseWriteConnection();
    expect(transport.writeDisconnected).to.equal(true);
    wrapper.loseConnection();
    expect(wrapper.disconnecting).to.equal(true);
    wrapper.abortConnection();
    expect(transport.aborted).to.equal(true);
  });

  it('keeps the optional members on the prototype: nothing per connection, one forwarder for all', () => {
    const factory = new WrappingFactory(new Factory());
    class Half extends Protocol {
      readConnectionLost(): void {}
      writeConnectionLost(): void {}
      serverDraining(): void {}
    }
    const real = () => Object.assign(new StringTransport(), { setTcpNoDelay() {}, secure: true });
    const a = new ProtocolWrapper(factory, new Half());
    const b = new ProtocolWrapper(factory, new Half());
    a.makeConnection(real());
    b.makeConnection(real());
    const optional = [
      'setTcpNoDelay',
      'secure',
      'readConnectionLost',
      'writeConnectionLost',
      'serverDraining',
    ];
    for (const wrapper of [a, b]) {
      expect(Object.getOwnPropertyNames(wrapper)).to.not.include.members(optional);
    }
    expect(a.setTcpNoDelay).to.be.a('function').and.equal(b.setTcpNoDelay);
    expect(a.readConnectionLost).to.be.a('function').and.equal(b.readConnectionLost);
    expect(a.serverDraining).to.be.a('function').and.equal(b.serverDraining);
    expect(a.secure).to.equal(true);
  });

  it('forwards serverDraining(deadline) through every wrapper to a protocol that has it, and has none otherwise', () => {
    const deadlines: number[] = [];
    class Draining extends Protocol {
      serverDraining(deadline: number): void {
        deadlines.push(deadline);
        this.transport.loseConnection();
      }
    }
    const transport = new StringTransport();
    const inner = new ProtocolWrapper(new WrappingFactory(new Factory()), new Draining());
    const outer = new ProtocolWrapper(new WrappingFactory(new Factory()), inner);
    outer.makeConnection(transport);
    expect(isDrainable(outer)).to.equal(true);
    outer.serverDraining?.(12.5);
    expect(deadlines).to.deep.equal([12.5]);
    expect(transport.disconnecting).to.equal(true);

    const plain = new ProtocolWrapper(new WrappingFactory(new Factory()), new Protocol());
    plain.makeConnection(new StringTransport());
    expect(isDrainable(plain)).to.equal(false);
    expect(isDrainable(new ProtocolWrapper(new WrappingFactory(new Factory()), plain))).to.equal(
      false,
    );
  });

  it('a protocol that registers its transport as producer registers the real transport, through every wrapper', () => {
    class SelfProducer extends Protocol {
      override connectionMade(): void {
        const t = this.transport as ITransport & {
          registerProducer(p: IPushProducer, streaming: boolean): void;
        };
        t.registerProducer(t as unknown as IPushProducer, true);
      }
    }
    const transport = new StringTransport();
    const inner = new ProtocolWrapper(new WrappingFactory(new Factory()), new SelfProducer());
    const outer = new ProtocolWrapper(new WrappingFactory(new Factory()), inner);
    outer.makeConnection(transport);
    expect(transport.producer).to.equal(transport);
  });

  it("passes the wrapped factory's shared-read-buffer opt-in on, unless its wrappers keep data", () => {
    const optIn = Object.assign(new Factory(), { readsIntoSharedBuffer: true });
    expect(new WrappingFactory(optIn).readsIntoSharedBuffer).to.equal(true);
    expect(new WrappingFactory(new WrappingFactory(optIn)).readsIntoSharedBuffer).to.equal(true);
    expect(new WrappingFactory(new Factory()).readsIntoSharedBuffer).to.equal(false);
    class Keeping extends WrappingFactory {
      protected override keepsReceivedData(): boolean {
        return true;
      }
    }
    expect(new Keeping(optIn).readsIntoSharedBuffer).to.equal(false);
    expect(new WrappingFactory(new Keeping(optIn)).readsIntoSharedBuffer).to.equal(false);
  });

  it('getHost/getPeer can be overridden, and the wrapped protocol sees the override', () => {
    const substitute = new IPv4Address('TCP', '203.0.113.7', 4242);
    class Proxied extends ProtocolWrapper {
      override getPeer(): IAddress {
        return substitute;
      }
    }
    class Peek extends Protocol {
      seen: IAddress | null = null;
      override connectionMade(): void {
        this.seen = this.transport.getPeer();
      }
    }
    const inner = new Peek();
    new Proxied(new WrappingFactory(new Factory()), inner).makeConnection(new StringTransport());
    expect(inner.seen).to.equal(substitute);
  });

  it('an exception in the wrapped protocol costs that connection only, logged once', () => {
    const logs = LogCapture.start();
    try {
      const { server, pump, client } = connectedServerAndClient({
        serverFactory: new WrappingFactory(Factory.forProtocol(Thrower)),
        clientProtocol: new RecordingProtocol(),
        isolateErrors: true,
      });
      client.transport.write('x');
      pump.flush();
      expect(client.lostCount).to.equal(1);
      expect(wrapperOf(server).connected).to.equal(false);
    } finally {
      logs.stop();
    }
    expect(logs.failures().map((f) => f.value.message)).to.deep.equal(['boom']);
  });

  it('throws a clear error when used before makeConnection', () => {
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Factory()), new Protocol());
    expect(wrapper.hasTransport).to.equal(false);
    expect(() => {
      wrapper.write('x');
    }).to.throw(Error, /no transport yet/);
  });
});
