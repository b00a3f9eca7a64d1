// Echo on a SimulatedReactor (docs/simulated-reactor.md): the real server and
// client over a virtual network with latency and chunking, and a reconnecting
// client riding out a partition, all in virtual time.
import { expect } from 'chai';
import { Deferred, Protocol, ReconnectingClientFactory } from '@torsion/core';
import type { IConnector, IProtocol } from '@torsion/core';
import { SimulatedReactor } from '@torsion/core/testing';
import { EchoFactory, echo } from '../src/index.js';

describe('Echo on a SimulatedReactor (docs/simulated-reactor.md)', () => {
  it('echoes through latency and random chunking, in virtual seconds', async () => {
    const reactor = new SimulatedReactor({ link: { latency: 0.05, chunking: 3 } });
    reactor.host('server').listenTCP(7, new EchoFactory());

    const reply = await echo('hello, simulated world', {
      host: 'server',
      port: 7,
      reactor: reactor.host('client'),
    });

    expect(reply.toString()).to.equal('hello, simulated world', `seed ${String(reactor.seed)}`);
    expect(reactor.seconds()).to.be.at.least(0.2); // connect, data, FIN and the echo back
  });

  it('a reconnecting client gets its echo once a partition heals', async () => {
    const reactor = new SimulatedReactor({ link: { latency: 0.01 } });
    reactor.host('server').listenTCP(7, new EchoFactory());
    const echoed = new Deferred<number>();

    class Pinger extends Protocol {
      override connectionMade(): void {
        this.transport.write('ping');
      }
      override dataReceived(data: Buffer): void {
        if (data.toString() === 'ping') echoed.callback(reactor.seconds());
      }
    }
    class PingFactory extends ReconnectingClientFactory {
      override buildProtocol(): IProtocol {
        this.resetDelay();
        return new Pinger();
      }
      override clientConnectionFailed(connector: IConnector, reason: never): void {
        super.clientConnectionFailed(connector, reason);
      }
    }

    // The client starts while the path to the server is down.
    reactor.host('client');
    reactor.network.partition('client', 'server');
    reactor.callLater(120, () => reactor.network.heal());
    const factory = new PingFactory({ clock: reactor, random: reactor.random, maxDelay: 20 });
    reactor.host('client').connectTCP('server', 7, factory, { timeout: 5 });

    const when = await echoed;
    factory.stopTrying();
    expect(when).to.be.greaterThan(120);
    expect(factory.retries).to.equal(0); // reset by the connection that worked
  });
});
