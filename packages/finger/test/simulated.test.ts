// Finger on a SimulatedReactor (docs/simulated-reactor.md): the real server
// and client on two virtual hosts, with latency and chunking, and the idle
// timeout firing in virtual time.
import { expect } from 'chai';
import { ClientFactory, ConnectionDone, Deferred, Protocol } from '@torsion/core';
import type { Failure, IConnector } from '@torsion/core';
import { SimulatedReactor } from '@torsion/core/testing';
import { FingerFactory, finger } from '../src/index.js';

describe('Finger on a SimulatedReactor (docs/simulated-reactor.md)', () => {
  it('answers a query across a slow, chunking link', async () => {
    const reactor = new SimulatedReactor({ link: { latency: 0.1, chunking: 2 } });
    const server = reactor.host('server');
    server.listenTCP(79, new FingerFactory({ users: { alice: 'On holiday' }, reactor: server }));

    const reply = await finger('alice', { host: 'server', reactor: reactor.host('client') });

    expect(reply, `seed ${String(reactor.seed)}`).to.include('On holiday');
    expect(reactor.seconds()).to.be.closeTo(0.4, 0.05); // handshake, query, reply
  });

  it('closes a connection that never sends its query after the idle timeout', async () => {
    const reactor = new SimulatedReactor();
    const server = reactor.host('server');
    server.listenTCP(79, new FingerFactory({ reactor: server, idleTimeout: 60 }));
    const closed = new Deferred<{ reason: Failure; at: number }>();
    class Silent extends ClientFactory {
      override buildProtocol(): Protocol {
        return new Protocol();
      }
      override clientConnectionLost(_connector: IConnector, reason: Failure): void {
        closed.callback({ reason, at: reactor.seconds() });
      }
    }
    reactor.host('client').connectTCP('server', 79, new Silent());

    const { reason, at } = await closed;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(at).to.be.closeTo(60, 0.01);
  });
});
