// Tests for src/testing/simulated/simulated-transport.ts and simulated-pipe.ts: the
// transports of a SimulatedReactor behave as the TCP transport does.
import { expect } from 'chai';

import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../../../src/errors.js';
import type { Failure } from '../../../src/failure.js';
import type {
  IHalfCloseableProtocol,
  IPullProducer,
  IPushProducer,
  WriteData,
} from '../../../src/interfaces.js';
import { EchoingProtocol } from '../../../src/testing/echoing-protocol.js';
import { LogCapture } from '../../../src/testing/log-capture.js';
import { RecordingClientFactory } from '../../../src/testing/recording-client-factory.js';
import { RecordingFactory } from '../../../src/testing/recording-factory.js';
import { RecordingProtocol } from '../../../src/testing/recording-protocol.js';
import { SimulatedReactor } from '../../../src/testing/simulated/simulated-reactor.js';
import { SimulatedTransport } from '../../../src/testing/simulated/simulated-transport.js';

/** The end's transport, as the simulated transport it is. */
function sim(protocol: RecordingProtocol): SimulatedTransport {
  const transport = protocol.transport;
  if (!(transport instanceof SimulatedTransport)) throw new Error('not a SimulatedTransport');
  // A TCP connection's ends: the transport's addresses are IP addresses.
  return transport as SimulatedTransport;
}

/** A server and a client connected over a manual-time reactor; returns both ends. */
function connectPair<S extends RecordingProtocol | EchoingProtocol, C extends RecordingProtocol>(
  reactor: SimulatedReactor,
  makeServer: () => S,
  makeClient: () => C,
): { server: () => S; client: () => C } {
  const serverFactory = new RecordingFactory(makeServer);
  reactor.listenTCP(9000, serverFactory);
  const clientFactory = new RecordingClientFactory(makeClient);
  reactor.connectTCP('127.0.0.1', 9000, clientFactory);
  reactor.flush();
  return { server: () => serverFactory.built[0]!, client: () => clientFactory.built[0]! };
}

describe('SimulatedTransport', () => {
  let reactor: SimulatedReactor;
  beforeEach(() => {
    reactor = new SimulatedReactor({ autoAdvance: false, seed: 1 });
  });

  it('carries bytes both ways and reports addresses', () => {
    const { server, client } = connectPair(
      reactor,
      () => new EchoingProtocol(),
      () => new RecordingProtocol(),
    );
    client().transport.write('ping');
    client().transport.write(new Uint8Array([0x21]));
    reactor.flush();
    expect(client().text()).to.equal('ping!');
    const transport = sim(client());
    expect(transport.getPeer().toString()).to.equal('127.0.0.1:9000');
    expect(server().transport.getPeer()).to.deep.equal(transport.getHost());
    expect(transport.getHost().port).to.be.at.least(49152);
  });

  it('rejects what is neither bytes nor a string, naming the type, and writes nothing', () => {
    const { client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    expect(() => client().transport.write(42 as unknown as WriteData)).to.throw(
      TypeError,
      /number/,
    );
    expect(() => client().transport.writeSequence(['a', null as unknown as WriteData])).to.throw(
      TypeError,
      /null/,
    );
  });

  it('copies written arrays, so reusing one does not change what was sent', () => {
    const { server, client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    const bytes = Buffer.from('abc');
    client().transport.write(bytes);
    bytes.fill(0x7a);
    reactor.flush();
    expect(server().text()).to.equal('abc');
  });

  it('loseConnection flushes (even writes right after it), then ConnectionDone on both ends', () => {
    const { server, client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    client().transport.write('a');
    client().transport.loseConnection();
    client().transport.write('b');
    expect(client().transport.disconnecting).to.equal(true);
    reactor.flush();
    expect(server().text()).to.equal('ab');
    expect(client().lostCount).to.equal(1);
    expect(client().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server().lostCount).to.equal(1);
    expect(server().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server().connected).to.equal(false);
  });

  it('ignores writes once the FIN is queued', () => {
    const { server, client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    client().transport.loseConnection();
    reactor.flush();
    client().transport.write('late');
    reactor.flush();
    expect(server().text()).to.equal('');
  });

  it('abortConnection: ConnectionAborted here, ConnectionLost at the peer, unsent bytes dropped', () => {
    const { server, client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    client().transport.write('never');
    client().transport.abortConnection();
    expect(client().lostCount).to.equal(0); // reported on a later turn
    reactor.flush();
    expect(client().lost.value.check(ConnectionAborted)).to.equal(ConnectionAborted);
    expect(server().lost.value.check(ConnectionAborted)).to.equal(null);
    expect(server().lost.value.check(ConnectionLost)).to.equal(ConnectionLost);
    expect(server().text()).to.equal('');
  });

  it('calls connectionLost exactly once, whatever else is called afterwards', () => {
    const { server, client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    client().transport.loseConnection();
    sim(client()).abortConnection();
    server().transport.loseConnection();
    reactor.flush();
    sim(server()).abortConnection();
    reactor.flush();
    expect(client().lostCount).to.equal(1);
    expect(server().lostCount).to.equal(1);
  });

  it('half-close: a half-closeable peer hears readConnectionLost and may still answer', () => {
    class Upper extends RecordingProtocol implements IHalfCloseableProtocol {
      readConnectionLost(): void {
        this.transport.write(this.text().toUpperCase());
        this.transport.loseConnection();
      }
      writeConnectionLost(): void {}
    }
    class Asker extends RecordingProtocol implements IHalfCloseableProtocol {
      writeLost = 0;
      readConnectionLost(): void {}
      writeConnectionLost(): void {
        this.writeLost++;
      }
    }
    const { server, client } = connectPair(
      reactor,
      () => new Upper(),
      () => new Asker(),
    );
    client().transport.write('shout');
    sim(client()).loseWriteConnection();
    reactor.flush();
    expect(client().text()).to.equal('SHOUT');
    expect(client().writeLost).to.equal(1);
    expect(client().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it("a peer's FIN closes a protocol that is not half-closeable, cleanly", () => {
    const { server, client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    sim(client()).loseWriteConnection();
    reactor.flush();
    expect(server().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(client().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('answers bytes reaching a closed end with a reset', () => {
    class Late extends RecordingProtocol implements IHalfCloseableProtocol {
      readConnectionLost(): void {
        reactor.callLater(1, () => this.transport.write('too late'));
      }
      writeConnectionLost(): void {}
    }
    const { server, client } = connectPair(
      reactor,
      () => new Late(),
      () => new RecordingProtocol(),
    );
    client().transport.loseConnection();
    reactor.advance(2);
    expect(client().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server().lost.value.check(ConnectionAborted)).to.equal(null);
    expect(server().lost.value.check(ConnectionLost)).to.equal(ConnectionLost);
  });

  it('records setTcpNoDelay and setTcpKeepAlive', () => {
    const { client } = connectPair(
      reactor,
      () => new RecordingProtocol(),
      () => new RecordingProtocol(),
    );
    const transport = sim(client());
    expect(transport.getTcpNoDelay()).to.equal(false);
    transport.setTcpNoDelay(true);
    transport.setTcpKeepAlive(true, 30);
    expect(transport.getTcpNoDelay()).to.equal(true);
    expect(transport.getTcpKeepAlive()).to.equal(true);
    expect(transport.keepAliveDelay).to.equal(30);
    expect(() => transport.setTcpKeepAlive(true, -1)).to.throw(RangeError);
  });

  describe('producers and backpressure', () => {
    /** Writes 16 KiB chunks while not paused, up to `total` bytes. */
    class Streamer extends RecordingProtocol implements IPushProducer {
      paused = false;
      pauses = 0;
      resumes = 0;
      sent = 0;
      constructor(readonly total: number) {
        super();
      }
      override connectionMade(): void {
        this.transport.registerProducer(this, true);
        this.resumeProducing();
      }
      pauseProducing(): void {
        this.paused = true;
        this.pauses++;
      }
      resumeProducing(): void {
        if (this.pauses > 0) this.resumes++;
        this.paused = false;
        while (!(this.paused as boolean) && this.sent < this.total) {
          this.transport.write(Buffer.alloc(16 * 1024, 0x61));
          this.sent += 16 * 1024;
        }
        if (this.sent >= this.total) {
          this.transport.unregisterProducer();
          this.transport.loseConnection();
        }
      }
      stopProducing(): void {
        this.paused = true;
      }
    }

    it('pauses a push producer above 64 KiB and resumes it once the send buffer drained', () => {
      const { server, client } = connectPair(
        reactor,
        () => new Streamer(1024 * 1024),
        () => new RecordingProtocol(),
      );
      expect(server().pauses).to.be.at.least(1);
      reactor.runUntilIdle();
      expect(server().resumes).to.be.at.least(1);
      expect(Buffer.concat(client().chunks).length).to.equal(1024 * 1024);
      expect(client().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it("a reader that pauses fills the window, and then the writer's producer stays paused", () => {
      class Sleeper extends RecordingProtocol {
        override connectionMade(): void {
          this.transport.pauseProducing();
        }
      }
      const { server, client } = connectPair(
        reactor,
        () => new Streamer(1024 * 1024),
        () => new Sleeper(),
      );
      reactor.advance(10);
      const transport = sim(client());
      const received = Buffer.concat(client().chunks).length;
      expect(transport.readBufferSize).to.be.at.most(64 * 1024);
      expect(server().paused).to.equal(true);
      expect(received + transport.readBufferSize).to.be.lessThan(1024 * 1024);
      // The window took 64 KiB; the rest waits in the sender's buffer.
      expect(received).to.equal(0);
      expect(sim(server()).writeBufferSize).to.be.greaterThan(0);
      client().transport.resumeProducing();
      reactor.runUntilIdle();
      expect(Buffer.concat(client().chunks).length).to.equal(1024 * 1024);
    });

    it('asks a pull producer for more each time the buffer drained', () => {
      class Counter extends RecordingProtocol implements IPullProducer {
        asked = 0;
        override connectionMade(): void {
          this.transport.registerProducer(this, false);
        }
        resumeProducing(): void {
          this.asked++;
          if (this.asked <= 3) this.transport.write(`${String(this.asked)};`);
          else {
            this.transport.unregisterProducer();
            this.transport.loseConnection();
          }
        }
        stopProducing(): void {}
      }
      const { server, client } = connectPair(
        reactor,
        () => new Counter(),
        () => new RecordingProtocol(),
      );
      reactor.runUntilIdle();
      expect(client().text()).to.equal('1;2;3;');
      expect(server().asked).to.equal(4);
    });

    it('throws when a second producer is registered', () => {
      const { client } = connectPair(
        reactor,
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const producer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };
      client().transport.registerProducer(producer, true);
      expect(() => client().transport.registerProducer(producer, true)).to.throw(/already/);
    });

    it('loseConnection waits for the producer to unregister', () => {
      const { server, client } = connectPair(
        reactor,
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const producer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };
      client().transport.registerProducer(producer, true);
      client().transport.loseConnection();
      reactor.advance(5);
      expect(server().lostCount).to.equal(0);
      client().transport.unregisterProducer();
      reactor.flush();
      expect(server().lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('stops a registered producer when the connection is lost', () => {
      const { client } = connectPair(
        reactor,
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      let stopped = 0;
      client().transport.registerProducer(
        {
          pauseProducing() {},
          resumeProducing() {},
          stopProducing() {
            stopped++;
          },
        },
        true,
      );
      client().transport.abortConnection();
      reactor.flush();
      expect(stopped).to.equal(1);
    });
  });

  describe('fault isolation', () => {
    it('logs an exception from dataReceived, aborts that connection only, and keeps serving', () => {
      class Fragile extends RecordingProtocol {
        override dataReceived(data: Buffer): void {
          if (data.toString() === 'bad') throw new Error('bad input');
          super.dataReceived(data);
        }
      }
      const logs = LogCapture.start();
      let first: RecordingProtocol;
      let second: RecordingProtocol;
      try {
        const pair = connectPair(
          reactor,
          () => new Fragile(),
          () => new RecordingProtocol(),
        );
        pair.client().transport.write('bad');
        reactor.flush();
        first = pair.server();
        const other = new RecordingClientFactory(() => new RecordingProtocol());
        reactor.connectTCP('127.0.0.1', 9000, other);
        reactor.flush();
        other.built[0]!.transport.write('good');
        reactor.flush();
        second = other.built[0]!;
        expect(pair.client().lost.value.check(ConnectionLost)).to.equal(ConnectionLost);
      } finally {
        logs.stop();
      }
      const reason = first.lost.value;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect((reason.value as { cause?: unknown }).cause).to.have.property('message', 'bad input');
      expect(logs.failures()[0]?.getErrorMessage()).to.equal('bad input');
      expect(logs.failures()[0]?.getTraceback()).to.include('dataReceived');
      expect(second.connected).to.equal(true);
    });

    it('closes a connection whose connectionMade throws', () => {
      class Broken extends RecordingProtocol {
        override connectionMade(): void {
          throw new Error('no greeting');
        }
      }
      const logs = LogCapture.start();
      try {
        const { server, client } = connectPair(
          reactor,
          () => new Broken(),
          () => new RecordingProtocol(),
        );
        reactor.flush();
        expect(server().lost.value.check(ConnectionLost)).to.equal(ConnectionLost);
        expect(client().lost.value.check(ConnectionLost)).to.equal(ConnectionLost);
      } finally {
        logs.stop();
      }
      expect(logs.failures()[0]?.getErrorMessage()).to.equal('no greeting');
    });

    it('only logs an exception from connectionLost', () => {
      class Sulky extends RecordingProtocol {
        override connectionLost(reason: Failure): void {
          super.connectionLost(reason);
          throw new Error('sulk');
        }
      }
      const logs = LogCapture.start();
      try {
        const { client } = connectPair(
          reactor,
          () => new RecordingProtocol(),
          () => new Sulky(),
        );
        client().transport.loseConnection();
        reactor.flush();
        expect(client().lostCount).to.equal(1);
      } finally {
        logs.stop();
      }
      expect(logs.failures()[0]?.getErrorMessage()).to.equal('sulk');
    });
  });
});
