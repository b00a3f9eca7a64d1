import { expect } from 'chai';
import { IPv4Address } from '../src/address.js';
import { ClientFactory, Factory, ServerFactory } from '../src/factory.js';
import { Failure } from '../src/failure.js';
import type { IConnector } from '../src/interfaces.js';
import { addLogObserver, type LogEvent } from '../src/log.js';
import { Protocol } from '../src/protocol.js';
import { ReconnectingClientFactory } from '../src/reconnecting-client-factory.js';

const addr = new IPv4Address('TCP', '127.0.0.1', 4242);

describe('Factory', () => {
  it('buildProtocol() instantiates `protocol` and sets its factory', () => {
    class Echo extends Protocol {}
    const factory = new Factory();
    factory.protocol = Echo;
    const built = factory.buildProtocol(addr);
    expect(built).to.be.instanceOf(Echo);
    expect((built as Echo).factory).to.equal(factory);
  });

  it('buildProtocol() explains a missing protocol class', () => {
    expect(() => new ServerFactory().buildProtocol(addr)).to.throw(
      'ServerFactory.protocol is not set: nothing to build',
    );
  });

  it('forProtocol() passes constructor arguments to every protocol', () => {
    class Greeter extends Protocol {
      constructor(
        readonly greeting: string,
        readonly times: number,
      ) {
        super();
      }
    }
    const factory = Factory.forProtocol(Greeter, 'hi', 2);
    const first = factory.buildProtocol(addr) as Greeter;
    const second = factory.buildProtocol(addr) as Greeter;
    expect(first).to.be.instanceOf(Greeter);
    expect(first).not.to.equal(second);
    expect([first.greeting, first.times]).to.deep.equal(['hi', 2]);
    expect(first.factory).to.equal(factory);
    expect(factory.protocol?.name).to.equal('Greeter');
  });

  it('forProtocol() keeps the class itself as `protocol`, as code that inspects it expects', () => {
    class Greeter extends Protocol {
      constructor(readonly greeting: string) {
        super();
      }
    }
    class Plain extends Protocol {}
    const factory = Factory.forProtocol(Greeter, 'hi');
    expect(factory.protocol).to.equal(Greeter);
    expect(Factory.forProtocol(Plain).protocol).to.equal(Plain);
    const built = factory.buildProtocol(addr) as Greeter;
    expect(built.constructor).to.equal(Greeter);
    expect(built.greeting).to.equal('hi');
  });

  it('forProtocol() arguments go to their class only: not to a protocol set later, again once it is back', () => {
    const seen: unknown[][] = [];
    class Greeter extends Protocol {
      constructor(...args: unknown[]) {
        super();
        seen.push(args);
      }
    }
    class Other extends Protocol {
      constructor(...args: unknown[]) {
        super();
        seen.push(args);
      }
    }
    const factory = Factory.forProtocol(Greeter, 'hi', 2);
    factory.protocol = Other;
    expect(factory.buildProtocol(addr)).to.be.instanceOf(Other);
    factory.protocol = Greeter;
    expect(factory.buildProtocol(addr)).to.be.instanceOf(Greeter);
    expect(seen).to.deep.equal([[], ['hi', 2]]);
  });

  it('forProtocol() on ClientFactory and ReconnectingClientFactory keeps the class and the arguments', () => {
    class Greeter extends Protocol {
      constructor(readonly greeting: string) {
        super();
      }
    }
    for (const FactoryClass of [ClientFactory, ReconnectingClientFactory]) {
      const factory = FactoryClass.forProtocol(Greeter, 'hey');
      expect(factory).to.be.instanceOf(FactoryClass);
      expect(factory.protocol).to.equal(Greeter);
      expect((factory.buildProtocol(addr) as Greeter).greeting).to.equal('hey');
    }
  });

  it('forProtocol() on a subclass builds that subclass', () => {
    expect(ClientFactory.forProtocol(Protocol)).to.be.instanceOf(ClientFactory);
  });

  it('a subclass may refuse connections by returning null', () => {
    class Picky extends Factory {
      override buildProtocol(): Protocol | null {
        return null;
      }
    }
    expect(new Picky().buildProtocol()).to.equal(null);
  });

  it('startFactory() and stopFactory() run once around the first and last port', () => {
    const calls: string[] = [];
    class Counting extends Factory {
      override startFactory(): void {
        calls.push('start');
      }
      override stopFactory(): void {
        calls.push('stop');
      }
    }
    const factory = new Counting();
    factory.doStart();
    factory.doStart();
    factory.doStop();
    expect(calls).to.deep.equal(['start']);
    factory.doStop();
    factory.doStop();
    expect(calls).to.deep.equal(['start', 'stop']);
    expect(factory.numPorts).to.equal(0);
  });

  it('a noisy factory logs start and stop', () => {
    const events: LogEvent[] = [];
    const stop = addLogObserver((event) => events.push(event));
    const factory = new Factory();
    factory.noisy = true;
    factory.doStart();
    factory.doStop();
    stop();
    expect(events.map((e) => e.message)).to.deep.equal([
      'Starting factory Factory',
      'Stopping factory Factory',
    ]);
  });
});

describe('ClientFactory', () => {
  it('has no-op connector callbacks', () => {
    const factory = new ClientFactory();
    const connector = {} as IConnector;
    const reason = new Failure(new Error('x'));
    expect(() => {
      factory.startedConnecting(connector);
      factory.clientConnectionFailed(connector, reason);
      factory.clientConnectionLost(connector, reason);
    }).not.to.throw();
  });
});
