import { expect } from 'chai';
import { ConnectionDone, Factory, Failure, Protocol } from '@torsion/core';
import { LineReceiver } from '@torsion/line';
import {
  Clock,
  EchoingProtocol,
  LogCapture,
  RecordingProtocol,
  StringTransport,
  connectedServerAndClient,
} from '@torsion/core/testing';

import { TimeoutFactory, TimeoutHelper, TimeoutMixin, TimeoutProtocol } from '../src/index.js';

const lost = () => new Failure(new ConnectionDone());

class Session extends TimeoutMixin(LineReceiver) {
  lines: string[] = [];
  override connectionMade(): void {
    this.setTimeout(10);
  }
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString());
    this.resetTimeout();
  }
}

describe('TimeoutHelper', () => {
  it('fires once after the period, and setTimeout returns the previous value', () => {
    const clock = new Clock();
    let fired = 0;
    const timer = new TimeoutHelper(clock, () => (fired += 1));
    expect(timer.setTimeout(5)).to.equal(null);
    clock.advance(4.9);
    expect(fired).to.equal(0);
    clock.advance(0.1);
    expect(fired).to.equal(1);
    expect(timer.timeOut).to.equal(null);
    clock.advance(100);
    expect(fired).to.equal(1);
    timer.setTimeout(3);
    expect(timer.setTimeout(4)).to.equal(3);
  });

  it('resetTimeout counts again from now; with no timeout it does nothing', () => {
    const clock = new Clock();
    let fired = 0;
    const timer = new TimeoutHelper(clock, () => (fired += 1));
    timer.resetTimeout();
    timer.setTimeout(5);
    clock.advance(4);
    timer.resetTimeout();
    clock.advance(4);
    expect(fired).to.equal(0);
    clock.advance(1);
    expect(fired).to.equal(1);
  });

  it('setTimeout(null) and cancel() turn it off', () => {
    const clock = new Clock();
    let fired = 0;
    const timer = new TimeoutHelper(clock, () => (fired += 1));
    timer.setTimeout(1);
    expect(timer.setTimeout(null)).to.equal(1);
    timer.setTimeout(1);
    timer.cancel();
    clock.advance(10);
    expect(fired).to.equal(0);
    expect(clock.getDelayedCalls()).to.deep.equal([]);
  });

  it('rejects a timeout that is not a finite number above 0, naming the argument', () => {
    const timer = new TimeoutHelper(new Clock(), () => undefined);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => timer.setTimeout(bad)).to.throw(RangeError, /setTimeout\(seconds\)/);
    }
  });

  it('closeTransport loses the connection, then aborts after the grace', () => {
    const clock = new Clock();
    const timer = new TimeoutHelper(clock, () => undefined);
    const transport = new StringTransport();
    timer.closeTransport(transport, 2);
    expect(transport.disconnecting).to.equal(true);
    expect(transport.aborted).to.equal(false);
    clock.advance(2);
    expect(transport.aborted).to.equal(true);
  });
});

describe('TimeoutMixin', () => {
  it('keeps its base class and closes an idle connection', () => {
    const clock = new Clock();
    const session = new Session();
    session.timeoutClock = clock;
    const transport = new StringTransport();
    session.makeConnection(transport);
    expect(session).to.be.instanceOf(LineReceiver);
    expect(session.timeOut).to.equal(10);
    clock.advance(9);
    session.dataReceived(Buffer.from('hi\r\n'));
    clock.advance(9);
    expect(transport.disconnecting).to.equal(false);
    clock.advance(1);
    expect(session.lines).to.deep.equal(['hi']);
    expect(transport.disconnecting).to.equal(true);
    clock.advance(session.timeoutAbortGrace);
    expect(transport.aborted).to.equal(true);
  });

  it('cancels the timer when the connection is lost', () => {
    const clock = new Clock();
    const session = new Session();
    session.timeoutClock = clock;
    session.makeConnection(new StringTransport());
    session.connectionLost(lost());
    expect(clock.getDelayedCalls()).to.deep.equal([]);
  });

  it('timeoutConnection can be overridden to say goodbye first', () => {
    class Polite extends TimeoutMixin(Protocol) {
      override timeoutConnection(): void {
        this.transport.write('idle, bye\r\n');
        super.timeoutConnection();
      }
    }
    const clock = new Clock();
    const protocol = new Polite();
    protocol.timeoutClock = clock;
    const transport = new StringTransport();
    protocol.makeConnection(transport);
    protocol.setTimeout(1);
    clock.advance(1);
    expect(transport.value().toString()).to.equal('idle, bye\r\n');
    expect(transport.disconnecting).to.equal(true);
  });
});

describe('TimeoutFactory', () => {
  it('closes a connection idle in both directions for the period, with a log line', () => {
    const clock = new Clock();
    const logs = LogCapture.start();
    try {
      const { client, server, pump } = connectedServerAndClient({
        serverFactory: new TimeoutFactory(Factory.forProtocol(EchoingProtocol), {
          timeoutPeriod: 30,
          clock,
        }),
        clientProtocol: new RecordingProtocol(),
      });
      expect(server).to.be.instanceOf(TimeoutProtocol);
      clock.advance(20);
      client.transport.write('ping');
      pump.flush();
      clock.advance(29);
      pump.flush();
      expect(client.lostCount).to.equal(0);
      clock.advance(1);
      pump.flush();
      expect(client.text()).to.equal('ping');
      expect(client.lostCount).to.equal(1);
      expect(clock.getDelayedCalls()).to.deep.equal([]);
    } finally {
      logs.stop();
    }
    expect(logs.messages('info')).to.deep.equal(['Closing an idle connection']);
  });

  it('writes by the server count as activity', () => {
    const clock = new Clock();
    const factory = new TimeoutFactory(Factory.forProtocol(Protocol), { timeoutPeriod: 5, clock });
    const wrapper = factory.buildProtocol(new StringTransport().getPeer()) as TimeoutProtocol;
    const transport = new StringTransport();
    wrapper.makeConnection(transport);
    clock.advance(4);
    wrapper.write('tick');
    clock.advance(4);
    expect(transport.disconnecting).to.equal(false);
    clock.advance(1);
    expect(transport.disconnecting).to.equal(true);
  });

  it('rejects a bad period, naming the option', () => {
    expect(
      () => new TimeoutFactory(new Factory(), { timeoutPeriod: 0, clock: new Clock() }),
    ).to.throw(RangeError, /timeoutPeriod/);
    expect(
      () => new TimeoutFactory(new Factory(), { abortGrace: -1, clock: new Clock() }),
    ).to.throw(RangeError, /abortGrace/);
  });
});
