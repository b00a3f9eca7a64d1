// Cases run on every reactor (conformance-style, but kept with the packages
// they test so @torsion/reactor-conformance need not depend on them): the
// PROXY-protocol wrapper and each connection policy over a reactor's real
// transports. Run over NodeReactor on loopback
// (reactor-cases.node.integration.test.ts), SimulatedReactor in virtual time
// (reactor-cases.simulated.test.ts) and BunReactor under Bun
// (packages/reactor-bun/test/proxy-policies.bun.test.ts).
import {
  deferLater,
  Deferred,
  Factory,
  IPv4Address,
  Protocol,
  type Failure,
  type IClientFactory,
  type IConnector,
  type IProtocol,
  type IProtocolFactory,
  type IPushProducer,
  type IReactorTime,
  type IStreamTransport,
} from '@torsion/core';
import {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  RateLimitConnectionsByPeer,
  ThrottlingFactory,
  TimeoutFactory,
  type RefusalEvent,
} from '@torsion/policies';
import { expect } from 'chai';
import { ProxyHeaderClientFactory } from '../src/client.js';
import { HAProxyWrappingFactory } from '../src/wrapping-factory.js';

/** What a reactor under test provides. */
export interface PolicyHarness {
  /** The server's reactor: the policies' clock and the header timer. */
  readonly reactor: IReactorTime;
  /** Listens with `factory` on the server; resolves with where clients connect. */
  listen(factory: IProtocolFactory): Promise<{ host: string; port: number }>;
  /** Connects a client (from one client address, the same every time) to `host:port`. */
  connect(host: string, port: number, factory: IClientFactory): void;
  /** Stops listening and whatever else it started. */
  close(): Promise<void>;
}

/** A client that records what it receives and when its connection ends. */
class Client extends Protocol {
  readonly made = new Deferred<undefined>();
  readonly lost = new Deferred<string>();
  received = '';
  constructor(private readonly greeting: string | null) {
    super();
  }
  override connectionMade(): void {
    if (this.greeting !== null) this.transport.write(this.greeting);
    this.made.callback(undefined);
  }
  override dataReceived(data: Buffer): void {
    this.received += data.toString('latin1');
  }
  override connectionLost(reason: Failure): void {
    this.lost.callback(reason.type.name);
  }
}

function clientFactory(protocol: Client): IClientFactory {
  return {
    buildProtocol: (): IProtocol => protocol,
    doStart() {},
    doStop() {},
    startedConnecting() {},
    clientConnectionFailed(_connector: IConnector, reason: Failure) {
      protocol.made.errback(reason.value);
    },
    clientConnectionLost() {},
  };
}

/** Greets each client with its peer address (`peer=…\n`), then echoes. */
class Greeter extends Protocol {
  override connectionMade(): void {
    this.transport.write(`peer=${this.transport.getPeer().toString()}\n`);
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** {@link Greeter} with echo's flow control: its transport is its own streaming producer. */
class SelfProducingGreeter extends Greeter {
  override connectionMade(): void {
    const transport = this.transport as IStreamTransport;
    transport.registerProducer(transport, true);
    super.connectionMade();
  }
}

/**
 * Streams: writes a chunk every millisecond of the reactor's clock while
 * not paused (a timer, not a zero-delay loop, so virtual time moves).
 */
class Firehose extends Protocol<never, IStreamTransport> implements IPushProducer {
  static readonly CHUNK = 1000;
  paused = false;
  pauses = 0;
  written = 0;
  constructor(private readonly clock: IReactorTime) {
    super();
  }
  override connectionMade(): void {
    this.transport.registerProducer(this, true);
    this.#next();
  }
  #next(): void {
    this.clock.callLater(0.001, () => {
      if (!this.connected) return;
      if (!this.paused) {
        this.transport.write(Buffer.alloc(Firehose.CHUNK, 0x62));
        this.written += Firehose.CHUNK;
      }
      this.#next();
    });
  }
  pauseProducing(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }
  resumeProducing(): void {
    this.paused = false;
  }
  stopProducing(): void {}
}

/** Waits until `check()` holds, polling on the reactor's clock (virtual or real), at most `seconds`. */
async function until(clock: IReactorTime, check: () => boolean, seconds = 5): Promise<void> {
  const deadline = clock.seconds() + seconds;
  while (!check()) {
    if (clock.seconds() > deadline) throw new Error(`not within ${String(seconds)} s`);
    await deferLater(clock, 0.01);
  }
}

/**
 * Registers the cases under `describe(name)`. `makeHarness` runs before each
 * case and the harness is closed after it.
 */
export function describeProxyPolicyCases(
  name: string,
  makeHarness: () => PolicyHarness | Promise<PolicyHarness>,
): void {
  describe(`PROXY protocol and policies over ${name}`, function () {
    this.timeout(20_000);
    let h: PolicyHarness;
    let refusals: RefusalEvent[];
    const onRefused = (event: RefusalEvent): void => {
      refusals.push(event);
    };
    beforeEach(async () => {
      refusals = [];
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    /** Connects a plain client; resolves once it is connected and has its greeting. */
    async function greeted(host: string, port: number): Promise<Client> {
      const client = new Client(null);
      h.connect(host, port, clientFactory(client));
      await client.made;
      await until(h.reactor, () => client.received.includes('\n'));
      return client;
    }

    /** Connects a plain client that the server refuses: it is closed without a byte. */
    async function refused(host: string, port: number): Promise<void> {
      const client = new Client(null);
      h.connect(host, port, clientFactory(client));
      await client.lost;
      expect(client.received).to.equal('');
    }

    it("PROXY v2: the protocol sees the header's client address, and the bytes after it", async () => {
      const { host, port } = await h.listen(
        new HAProxyWrappingFactory(Factory.forProtocol(Greeter), {
          reactor: h.reactor,
          trustedProxies: ['0.0.0.0/0', '::/0'],
        }),
      );
      const client = new Client('ping');
      h.connect(
        host,
        port,
        new ProxyHeaderClientFactory(clientFactory(client), {
          source: new IPv4Address('TCP', '203.0.113.7', 51000),
          destination: new IPv4Address('TCP', '198.51.100.1', 443),
        }),
      );
      await until(h.reactor, () => client.received.endsWith('ping'));
      expect(client.received).to.equal('peer=203.0.113.7:51000\nping');
      client.transport.loseConnection();
      await client.lost;
    });

    it('PROXY: a connection without a header within headerTimeout is closed; onRefused says why', async () => {
      const { host, port } = await h.listen(
        new HAProxyWrappingFactory(Factory.forProtocol(Greeter), {
          reactor: h.reactor,
          trustedProxies: ['0.0.0.0/0', '::/0'],
          headerTimeout: 0.2,
          onRefused,
        }),
      );
      const started = h.reactor.seconds();
      await refused(host, port);
      expect(h.reactor.seconds() - started).to.be.at.least(0.19);
      expect(refusals.map((r) => [r.policy, r.reason])).to.deep.equal([
        ['haproxy', 'header-timeout'],
      ]);
    });

    it('PROXY: a connection from outside trustedProxies is refused at once', async () => {
      const { host, port } = await h.listen(
        new HAProxyWrappingFactory(Factory.forProtocol(Greeter), {
          reactor: h.reactor,
          trustedProxies: ['192.0.2.0/24'],
          onRefused,
        }),
      );
      await refused(host, port);
      expect(refusals.map((r) => r.reason)).to.deep.equal(['untrusted-proxy']);
    });

    it('LimitTotalConnectionsFactory: over the limit a connection is closed at once, and admitted again later', async () => {
      const factory = new LimitTotalConnectionsFactory(Factory.forProtocol(Greeter), 1, {
        onRefused,
      });
      const { host, port } = await h.listen(factory);
      const first = await greeted(host, port);
      await refused(host, port);
      expect(refusals.map((r) => r.policy)).to.deep.equal(['limitTotalConnections']);
      first.transport.loseConnection();
      await first.lost;
      await until(h.reactor, () => factory.connectionCount === 0);
      (await greeted(host, port)).transport.loseConnection();
    });

    it('LimitConnectionsByPeer: a second connection from the same peer is refused', async () => {
      const factory = new LimitConnectionsByPeer(Factory.forProtocol(Greeter), 1, { onRefused });
      const { host, port } = await h.listen(factory);
      const first = await greeted(host, port);
      await refused(host, port);
      expect(refusals.map((r) => r.reason)).to.deep.equal(['peer-connection-limit']);
      first.transport.loseConnection();
      await first.lost;
    });

    it('RateLimitConnectionsByPeer: a burst over the bucket is refused, and the bucket refills', async () => {
      const factory = new RateLimitConnectionsByPeer(Factory.forProtocol(Greeter), {
        ratePerSecond: 4,
        burst: 1,
        clock: h.reactor,
        onRefused,
      });
      const { host, port } = await h.listen(factory);
      (await greeted(host, port)).transport.loseConnection();
      await refused(host, port);
      expect(refusals.map((r) => r.reason)).to.deep.equal(['peer-rate-limit']);
      await deferLater(h.reactor, 0.3);
      (await greeted(host, port)).transport.loseConnection();
    });

    it('ThrottlingFactory: a streaming producer is paused at the write limit and resumed as it drains', async () => {
      const limit = 10_000;
      const producers: Firehose[] = [];
      const inner = new Factory();
      inner.buildProtocol = () => {
        const producer = new Firehose(h.reactor);
        producers.push(producer);
        return producer;
      };
      const { host, port } = await h.listen(
        new ThrottlingFactory(inner, {
          writeLimitPerConnection: limit,
          interval: 0.05,
          clock: h.reactor,
        }),
      );
      const client = new Client(null);
      h.connect(host, port, clientFactory(client));
      await client.made;
      const started = h.reactor.seconds();
      await deferLater(h.reactor, 1.5);
      const elapsed = h.reactor.seconds() - started;
      const written = producers[0]?.written ?? 0;
      // Unthrottled it would write a chunk a millisecond: 1,000,000 bytes a second.
      expect(written).to.be.at.most(limit * (elapsed + 1) + Firehose.CHUNK);
      expect(written).to.be.at.least(limit * (elapsed - 1));
      expect(producers[0]?.pauses).to.be.at.least(2);
      await until(h.reactor, () => client.received.length >= limit * (elapsed - 1));
      client.transport.loseConnection();
      await client.lost;
    });

    it('TimeoutFactory: an idle connection is closed after timeoutPeriod, a busy one is not', async () => {
      const { host, port } = await h.listen(
        new TimeoutFactory(Factory.forProtocol(Greeter), {
          timeoutPeriod: 0.3,
          clock: h.reactor,
        }),
      );
      const busy = await greeted(host, port);
      const idle = await greeted(host, port);
      const started = h.reactor.seconds();
      for (let i = 0; i < 4; i++) {
        await deferLater(h.reactor, 0.1);
        busy.transport.write('x');
      }
      await idle.lost;
      expect(h.reactor.seconds() - started).to.be.at.least(0.25);
      expect(busy.lost.called).to.equal(false);
      busy.transport.loseConnection();
      await busy.lost;
    });

    it('TimeoutFactory around an echo that is its own producer: an idle connection closes cleanly at once', async () => {
      const { host, port } = await h.listen(
        new TimeoutFactory(Factory.forProtocol(SelfProducingGreeter), {
          timeoutPeriod: 0.3,
          abortGrace: 3,
          clock: h.reactor,
        }),
      );
      const idle = await greeted(host, port);
      const started = h.reactor.seconds();
      // A clean close (ConnectionDone), not an abort after the 3 s grace.
      expect(await idle.lost).to.equal('ConnectionDone');
      expect(h.reactor.seconds() - started).to.be.below(2);
    });

    it('behind PROXY, LimitConnectionsByPeer counts the client from the header, not the proxy', async () => {
      const { host, port } = await h.listen(
        new HAProxyWrappingFactory(
          new LimitConnectionsByPeer(Factory.forProtocol(Greeter), 1, { onRefused }),
          { reactor: h.reactor, trustedProxies: ['0.0.0.0/0', '::/0'] },
        ),
      );
      const via = async (source: string): Promise<Client> => {
        const client = new Client(null);
        h.connect(
          host,
          port,
          new ProxyHeaderClientFactory(clientFactory(client), {
            source: new IPv4Address('TCP', source, 51000),
            destination: new IPv4Address('TCP', '198.51.100.1', 443),
          }),
        );
        await client.made;
        await until(h.reactor, () => client.received.includes('\n') || client.lost.called);
        return client;
      };
      // One proxy address, two clients: each within its own limit.
      const first = await via('203.0.113.7');
      const second = await via('203.0.113.8');
      expect(first.received).to.equal('peer=203.0.113.7:51000\n');
      expect(second.received).to.equal('peer=203.0.113.8:51000\n');
      const third = await via('203.0.113.7');
      expect(await third.lost).to.be.a('string');
      expect(third.received).to.equal('');
      expect(refusals.map((r) => [r.reason, r.peer.toString()])).to.deep.equal([
        ['peer-connection-limit', '203.0.113.7:51000'],
      ]);
      for (const client of [first, second]) {
        client.transport.loseConnection();
        await client.lost;
      }
    });
  });
}
