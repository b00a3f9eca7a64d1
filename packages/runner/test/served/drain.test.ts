// The drain on its own, in virtual time: ports that list their connections
// (as every reactor's do), protocols behind wrappers, a wrapper whose protocol
// is connected late (a PROXY header still on its way), and the deadline.
import {
  Clock,
  Deferred,
  Factory,
  IPv4Address,
  Logger,
  Protocol,
  succeed,
  type IAddress,
  type IListeningPort,
  type IProtocol,
  type IStreamTransport,
} from '@torsion/core';
import { StringTransportWithDisconnection } from '@torsion/core/testing';
import { ProtocolWrapper, type IWrapperRegistry } from '@torsion/policies';
import { expect } from 'chai';

import { newPluginCounters } from '@torsion/metrics/counters';

import { Drain, POLL } from '../../src/served/drain.js';
import { TrackingFactory, type ConnectionRecord } from '../../src/served/tracking-factory.js';

const registry: IWrapperRegistry = { registerProtocol() {}, unregisterProtocol() {} };

/** A port whose connections leave its list when they close, as a reactor's port's do. */
class ListingPort implements IListeningPort<IAddress> {
  readonly open = new Set<ClosingTransport>();
  stopped = false;
  whenListening(): Deferred<IListeningPort<IAddress>> {
    return succeed<IListeningPort<IAddress>>(this);
  }
  stopListening(): Deferred<void> {
    this.stopped = true;
    return succeed<undefined>(undefined);
  }
  getHost(): IAddress {
    throw new Error('not needed');
  }
  connections(): Iterable<IStreamTransport> {
    return this.open.values();
  }
  get connectionCount(): number {
    return this.open.size;
  }
  /** Connects `protocol` on a new transport listed by this port. */
  accept(protocol: IProtocol): ClosingTransport {
    const transport = new ClosingTransport(this, protocol);
    this.open.add(transport);
    protocol.makeConnection(transport);
    return transport;
  }
}

class ClosingTransport extends StringTransportWithDisconnection {
  constructor(
    readonly port: ListingPort,
    protocol: IProtocol,
  ) {
    super({ protocol });
  }
  override loseConnection(): void {
    super.loseConnection();
    this.port.open.delete(this);
  }
  override abortConnection(): void {
    super.abortConnection();
    this.port.open.delete(this);
  }
}

class Polite extends Protocol {
  deadlines: number[] = [];
  serverDraining(deadline: number): void {
    this.deadlines.push(deadline);
  }
}

/** A wrapper whose protocol comes later, as the PROXY wrapper's does. */
class LateWrapper extends ProtocolWrapper {
  constructor() {
    super(registry, null);
  }
  override makeConnection(transport: IStreamTransport): void {
    this.attachTransport(transport);
  }
  headerArrived(wrapped: IProtocol): void {
    this.setWrappedProtocol(wrapped);
    this.connectWrapped();
  }
}

/** Lets the promise callbacks of `run()` settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('Drain', () => {
  const log = new Logger('test.drain');

  it('stops the ports, tells protocols through wrappers, and ends when the last connection closes', async () => {
    const clock = new Clock();
    const port = new ListingPort();
    const direct = new Polite();
    const wrapped = new Polite();
    const plain = new Protocol();
    const a = port.accept(direct);
    const b = port.accept(new ProtocolWrapper(registry, new ProtocolWrapper(registry, wrapped)));
    port.accept(plain).loseConnection();
    const c = port.accept(new Protocol());
    let finished = false;
    void new Drain(clock, [port], 30, log).run().then(() => {
      finished = true;
    });
    expect(port.stopped).to.equal(true);
    expect(direct.deadlines).to.deep.equal([30]);
    expect(wrapped.deadlines).to.deep.equal([30]);
    a.loseConnection();
    b.loseConnection();
    clock.advance(POLL);
    await settle();
    expect(finished).to.equal(false);
    c.loseConnection();
    clock.advance(POLL);
    await settle();
    expect(finished).to.equal(true);
  });

  it('counts a connection whose protocol is not connected yet, and tells it once it is', async () => {
    const clock = new Clock();
    clock.advance(100);
    const port = new ListingPort();
    const late = new LateWrapper();
    const transport = port.accept(late);
    let finished = false;
    void new Drain(clock, [port], 10, log).run().then(() => {
      finished = true;
    });
    clock.advance(POLL);
    await settle();
    expect(finished).to.equal(false);
    const polite = new Polite();
    clock.advance(1);
    late.headerArrived(polite);
    expect(polite.deadlines).to.deep.equal([]);
    clock.advance(POLL);
    expect(polite.deadlines).to.deep.equal([110]);
    // Told once only.
    clock.advance(POLL * 3);
    expect(polite.deadlines).to.have.length(1);
    transport.loseConnection();
    clock.advance(POLL);
    await settle();
    expect(finished).to.equal(true);
  });

  it('closes what is left at the deadline, aborts it a second later, and costs a throwing protocol only its connection', async () => {
    const clock = new Clock();
    const port = new ListingPort();
    class Throwing extends Protocol {
      serverDraining(): void {
        throw new Error('cannot drain');
      }
    }
    const throwing = port.accept(new Throwing());
    expect(throwing.aborted).to.equal(false);
    let finished = false;
    const stubborn = new ClosingTransport(port, new Protocol());
    // A connection that ignores loseConnection() (a producer holding it open).
    stubborn.loseConnection = function (this: ClosingTransport) {};
    port.open.add(stubborn);
    const logged: string[] = [];
    const drainLog = new Logger('test.drain');
    drainLog.failure = (message: string) => {
      logged.push(message);
    };
    void new Drain(clock, [port], 5, drainLog).run().then(() => {
      finished = true;
    });
    expect(throwing.aborted).to.equal(true);
    expect(logged).to.deep.equal(['serverDraining() threw; aborting that connection']);
    clock.advance(4.9);
    expect(port.connectionCount).to.equal(1);
    clock.advance(0.1);
    expect(port.connectionCount).to.equal(1);
    clock.advance(1);
    expect(stubborn.aborted).to.equal(true);
    clock.advance(POLL);
    await settle();
    expect(finished).to.equal(true);
  });

  it('marks a tracked connection closed at the deadline as drain-aborted, for the access log', async () => {
    const clock = new Clock();
    const port = new ListingPort();
    const records: ConnectionRecord[] = [];
    const tracking = new TrackingFactory(
      Factory.forProtocol(Protocol),
      newPluginCounters('echo'),
      'tcp:0',
      { connectionEnded: (_c, record) => record !== null && records.push(record) },
      true,
    );
    const built = tracking.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1));
    if (built === null) throw new Error('refused');
    port.accept(built);
    void new Drain(clock, [port], 1, log).run();
    clock.advance(1);
    expect(records.map((r) => r.ending)).to.deep.equal(['drain-aborted']);
    clock.advance(1 + POLL);
    await settle();
  });
});
