// Fault isolation on Bun: an exception thrown by protocol code is logged
// with its stack on `torsion.bun` and aborts that connection only; the
// process and the other connections carry on.
import { expect } from 'chai';
import { addLogObserver, ConnectionLost } from '@torsion/core';
import type { Failure, LogEvent } from '@torsion/core';
import { BunReactor } from '../src/index.js';
import { EchoingProtocol, RecordingProtocol, serveOnLoopback } from '@torsion/core/testing';
import { RawPeer } from './support/helpers.js';

class ThrowsOnData extends EchoingProtocol {
  override dataReceived(data: Buffer): void {
    if (data.toString().includes('boom')) throw new RangeError('kaboom');
    super.dataReceived(data);
  }
}

class ThrowsOnLost extends RecordingProtocol {
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    throw new Error('cannot end');
  }
}

describe('fault isolation on Bun (loopback)', () => {
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

  it('aborts only the connection whose dataReceived threw, logging the stack', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new ThrowsOnData());
    const victim = await RawPeer.connect(port);
    const bystander = await RawPeer.connect(port);
    const [server, other] = await factory.waitForBuilt(2);
    victim.socket.write('boom');
    const reason = await server!.lost;
    expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
    expect(reason.value.cause).to.be.instanceOf(RangeError);
    await victim.gotClose;
    bystander.socket.write('still here');
    await bystander.waitForBytes(10);
    expect(bystander.text()).to.equal('still here');
    expect(other!.lostCount).to.equal(0);
    const logged = events.filter((e) => e.level === 'error');
    expect(logged).to.have.length(1);
    expect(logged[0]!.namespace).to.equal('torsion.bun');
    const failure = logged[0]!.fields.failure as Failure;
    expect(failure.getTraceback()).to.match(/kaboom[\s\S]*\bat\b/);
    expect(reactor.running).to.equal(true);
  });

  it('only logs an exception from connectionLost', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new ThrowsOnLost());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    peer.socket.end();
    await server!.lost;
    await Bun.sleep(10);
    expect(server!.lostCount).to.equal(1);
    const logged = events.filter((e) => e.level === 'error').map((e) => e.message);
    expect(logged).to.deep.equal(['Unhandled error in ThrowsOnLost.connectionLost']);
  });

  it('aborts a connection whose connectionMade threw, and still calls connectionLost', async () => {
    class BadStart extends RecordingProtocol {
      override connectionMade(): void {
        super.connectionMade();
        throw new Error('cannot start');
      }
    }
    const { factory, port } = await serveOnLoopback(reactor, () => new BadStart());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    const reason = await server!.lost;
    expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
    expect(server!.events).to.deep.equal(['connectionMade', 'connectionLost']);
    await peer.gotClose;
  });
});
