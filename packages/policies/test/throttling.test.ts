import { expect } from 'chai';
import {
  ConnectionDone,
  Factory,
  Failure,
  IPv4Address,
  Protocol,
  type IPushProducer,
  type IStreamTransport,
} from '@torsion/core';
import { Clock, StringTransport } from '@torsion/core/testing';

import { ThrottlingFactory, ThrottlingProtocol } from '../src/index.js';

const peer = new IPv4Address('TCP', '127.0.0.1', 1);

function connect(factory: ThrottlingFactory, transport = new StringTransport()) {
  const wrapper = factory.buildProtocol(peer);
  if (!(wrapper instanceof ThrottlingProtocol)) throw new Error('not throttled');
  wrapper.makeConnection(transport);
  return { wrapper, transport };
}

/** A streaming producer that writes CHUNK bytes each time it is pumped, unless paused. */
class Firehose extends Protocol<never, IStreamTransport> implements IPushProducer {
  static readonly CHUNK = 1000;
  paused = false;
  override connectionMade(): void {
    this.transport.registerProducer(this, true);
  }
  pump(): void {
    if (!this.paused) this.transport.write(Buffer.alloc(Firehose.CHUNK));
  }
  pauseProducing(): void {
    this.paused = true;
  }
  resumeProducing(): void {
    this.paused = false;
  }
  stopProducing(): void {}
}

describe('ThrottlingFactory', () => {
  it('bounds the read rate per connection by pausing reads, and resumes them', () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), {
      readLimitPerConnection: 10_000,
      clock,
    });
    const { wrapper, transport } = connect(factory);
    let read = 0;
    const seconds = 10;
    for (let step = 0; step < seconds * 100; step++) {
      // A peer that always has data: a chunk arrives whenever reading is on.
      if (transport.producerState === 'producing') {
        wrapper.dataReceived(Buffer.alloc(1000));
        read += 1000;
      }
      clock.advance(0.01);
    }
    expect(read).to.be.at.most(10_000 * (seconds + 1) + 1000);
    expect(read).to.be.at.least(10_000 * (seconds - 1));
  });

  it('bounds the write rate of a streaming producer by pausing it: buffered bytes stay bounded', () => {
    const clock = new Clock();
    const protocols: Firehose[] = [];
    const inner = new Factory();
    inner.buildProtocol = () => {
      const p = new Firehose();
      protocols.push(p);
      return p;
    };
    const factory = new ThrottlingFactory(inner, { writeLimitPerConnection: 50_000, clock });
    const { transport } = connect(factory);
    const producer = protocols[0]!;
    const seconds = 10;
    for (let step = 0; step < seconds * 1000; step++) {
      producer.pump();
      clock.advance(0.001);
    }
    const written = transport.value().length;
    expect(written).to.be.at.most(50_000 * (seconds + 1) + Firehose.CHUNK);
    expect(written).to.be.at.least(50_000 * (seconds - 1));
    // Writing throttled also pauses reads, which usually drive writes.
    expect(['paused', 'producing']).to.include(transport.producerState);
  });

  it('a total limit is shared by all connections', () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), {
      readLimit: 10_000,
      clock,
    });
    const a = connect(factory);
    const b = connect(factory);
    let read = 0;
    for (let step = 0; step < 1000; step++) {
      for (const { wrapper, transport } of [a, b]) {
        if (transport.producerState === 'producing') {
          wrapper.dataReceived(Buffer.alloc(500));
          read += 500;
        }
      }
      clock.advance(0.01);
    }
    expect(read).to.be.at.most(10_000 * 11 + 1000);
    expect(factory.readBytes).to.equal(read);
  });

  it('never resumes reads the wrapped protocol paused itself', () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), {
      readLimitPerConnection: 1000,
      clock,
    });
    const { wrapper, transport } = connect(factory);
    wrapper.pauseProducing();
    wrapper.dataReceived(Buffer.alloc(5000));
    for (let i = 0; i < 10; i++) clock.advance(1);
    expect(transport.producerState).to.equal('paused');
    wrapper.resumeProducing();
    expect(transport.producerState).to.equal('producing');
  });

  it('stops its timer when the last connection ends, and rejects bad limits by name', () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), { readLimit: 1, clock });
    const { wrapper } = connect(factory);
    expect(clock.getDelayedCalls()).to.have.length(1);
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    clock.advance(1);
    expect(clock.getDelayedCalls()).to.deep.equal([]);
    expect(() => new ThrottlingFactory(new Factory(), { writeLimit: 0, clock })).to.throw(
      RangeError,
      /writeLimit/,
    );
  });
});

describe('ThrottlingProtocol, its own transport as producer (the echo idiom)', () => {
  it('lets go of that producer on loseConnection, so the close is not held back', () => {
    class SelfProducing extends Protocol<never, IStreamTransport> {
      override connectionMade(): void {
        this.transport.registerProducer(this.transport, true);
      }
    }
    const factory = new ThrottlingFactory(Factory.forProtocol(SelfProducing), {
      writeLimitPerConnection: 1000,
      clock: new Clock(),
    });
    const { wrapper, transport } = connect(factory);
    expect(transport.producer).to.not.equal(null);
    wrapper.loseConnection();
    expect(transport.producer).to.equal(null);
    expect(transport.disconnecting).to.equal(true);
  });
});
