// Tests for src/testing/io-pump.ts: in-memory connections between two protocols.
import { expect } from 'chai';

import { IPv4Address, IPv6Address } from '../../src/address.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../../src/errors.js';
import { Factory } from '../../src/factory.js';
import type { Failure } from '../../src/failure.js';
import type {
  IHalfCloseableProtocol,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  WriteData,
} from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import { fixedChunker, randomChunker } from '../../src/testing/chunkers.js';
import { FakeTransport } from '../../src/testing/fake-transport.js';
import { IOPump, connectedServerAndClient } from '../../src/testing/io-pump.js';
import { LogCapture } from '../../src/testing/log-capture.js';

/** The example server docs/testing.md teaches with. */
class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** Records everything that happens to it. */
class Recorder extends Protocol<Factory, ITCPTransport> {
  chunks: Buffer[] = [];
  reasons: Failure[] = [];
  made = 0;
  override connectionMade(): void {
    this.made += 1;
  }
  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
  }
  override connectionLost(reason: Failure): void {
    this.reasons.push(reason);
  }
  get received(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

class Greeter extends Recorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.write('hello\r\n');
  }
}

class HalfCloser extends Recorder implements IHalfCloseableProtocol {
  readLost = 0;
  writeLost = 0;
  readConnectionLost(): void {
    this.readLost += 1;
  }
  writeConnectionLost(): void {
    this.writeLost += 1;
  }
}

class Thrower extends Recorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    throw new RangeError('bad input');
  }
}

/** Answers every chunk forever: a ping-pong loop. */
class Ponger extends Protocol {
  override connectionMade(): void {
    this.transport.write('x');
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

function pair(options: { greet?: boolean; chunking?: number; isolateErrors?: boolean } = {}) {
  return connectedServerAndClient({
    serverProtocol: new Recorder(),
    clientProtocol: new Recorder(),
    ...options,
  });
}

describe('FakeTransport', () => {
  it('throws a TypeError naming the type for bad write data', () => {
    const { clientTransport } = pair();
    expect(() => clientTransport.write(1n as unknown as WriteData)).to.throw(TypeError, /bigint/);
  });

  it('reports the loopback addresses of both ends by default', () => {
    const { clientTransport, serverTransport } = pair();
    expect(clientTransport.getHost().toString()).to.equal('127.0.0.1:54321');
    expect(clientTransport.getPeer().toString()).to.equal('127.0.0.1:12345');
    expect(serverTransport.getHost().toString()).to.equal('127.0.0.1:12345');
    expect(serverTransport.getPeer().toString()).to.equal('127.0.0.1:54321');
    expect(serverTransport.isServer).to.equal(true);
    expect(clientTransport.isServer).to.equal(false);
  });

  it('remembers TCP options', () => {
    const { clientTransport } = pair();
    clientTransport.setTcpNoDelay(true);
    clientTransport.setTcpKeepAlive(true, 10);
    expect(clientTransport.getTcpNoDelay()).to.equal(true);
    expect(clientTransport.getTcpKeepAlive()).to.equal(true);
  });

  it('rejects what a real transport rejects: a bad keep-alive delay or high-water mark', () => {
    const { clientTransport } = pair();
    expect(() => {
      clientTransport.setTcpKeepAlive(true, -1);
    }).to.throw(RangeError, /setTcpKeepAlive/);
    const addr = new IPv4Address('TCP', '127.0.0.1', 1);
    expect(
      () =>
        new FakeTransport(new Protocol(), {
          hostAddress: addr,
          peerAddress: addr,
          isServer: false,
          highWaterMark: -1,
        }),
    ).to.throw(RangeError, /writeHighWaterMark/);
  });

  it('refuses a second producer', () => {
    const { clientTransport } = pair();
    const producer: IPushProducer = {
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    };
    clientTransport.registerProducer(producer, true);
    expect(clientTransport.streaming).to.equal(true);
    expect(() => clientTransport.registerProducer(producer, true)).to.throw(Error, /already/);
  });
});

describe('connectedServerAndClient', () => {
  it('connects an echo server to a client in memory', () => {
    const { client, pump } = connectedServerAndClient({
      serverFactory: Factory.forProtocol(Echo),
      clientProtocol: new Recorder(),
    });
    client.transport.write('ping');
    expect(client.received).to.equal('');
    expect(pump.flush()).to.equal(true);
    expect(client.received).to.equal('ping');
  });

  it('builds each end from a factory, passing the peer address, and sets factory', () => {
    const factory = Factory.forProtocol(Recorder);
    const seen: string[] = [];
    const spying = {
      buildProtocol: (addr: { toString(): string }) => {
        seen.push(addr.toString());
        return factory.buildProtocol(addr as never);
      },
    };
    const { server, client } = connectedServerAndClient({
      serverFactory: spying,
      clientFactory: spying,
      serverAddress: new IPv6Address('TCP', '::1', 8080),
    });
    expect(seen).to.deep.equal(['127.0.0.1:54321', '[::1]:8080']);
    if (!(server instanceof Recorder) || !(client instanceof Recorder)) {
      throw new Error('expected Recorders');
    }
    expect(server.factory).to.equal(factory);
    expect(client.made).to.equal(1);
  });

  it('throws when a factory refuses the connection', () => {
    expect(() =>
      connectedServerAndClient({
        serverFactory: { buildProtocol: () => null },
        clientProtocol: new Recorder(),
      }),
    ).to.throw(Error, /refused/);
  });

  it('flushes greetings written in connectionMade unless greet is false', () => {
    const greeted = connectedServerAndClient({
      serverProtocol: new Greeter(),
      clientProtocol: new Recorder(),
    });
    expect(greeted.client.received).to.equal('hello\r\n');

    const quiet = connectedServerAndClient({
      serverProtocol: new Greeter(),
      clientProtocol: new Recorder(),
      greet: false,
    });
    expect(quiet.client.received).to.equal('');
    expect(quiet.pump.pump()).to.equal(true);
    expect(quiet.client.received).to.equal('hello\r\n');
  });
});

describe('IOPump', () => {
  it('pump() moves queued bytes once in each direction and reports whether anything moved', () => {
    const { client, server, pump } = pair();
    client.transport.write('to server');
    server.transport.write('to client');
    expect(pump.pump()).to.equal(true);
    expect(server.received).to.equal('to server');
    expect(client.received).to.equal('to client');
    expect(pump.pump()).to.equal(false);
  });

  it('delivers in pieces of a fixed size', () => {
    const { client, server, pump } = pair({ chunking: 3 });
    client.transport.write('abcdefgh');
    pump.flush();
    expect(server.chunks.map(String)).to.deep.equal(['abc', 'def', 'gh']);
  });

  it('delivers in reproducible random pieces with a seeded chunker', () => {
    const run = (): string[] => {
      const { client, server, pump } = connectedServerAndClient({
        serverProtocol: new Recorder(),
        clientProtocol: new Recorder(),
        chunking: randomChunker(42, 4),
      });
      client.transport.write('the quick brown fox');
      pump.flush();
      expect(server.received).to.equal('the quick brown fox');
      return server.chunks.map(String);
    };
    const first = run();
    expect(first.length).to.be.greaterThan(1);
    expect(run()).to.deep.equal(first);
  });

  it('advances the clock by 0 each round so callLater(0) calls run', () => {
    let advanced = 0;
    const { pump } = connectedServerAndClient({
      serverProtocol: new Recorder(),
      clientProtocol: new Recorder(),
      clock: { advance: (s) => (advanced += s === 0 ? 1 : 100) },
      greet: false,
    });
    pump.pump();
    pump.pump();
    expect(advanced).to.equal(2);
  });

  it('flush() throws after maxRounds when protocols answer each other forever', () => {
    expect(() =>
      connectedServerAndClient({
        serverProtocol: new Ponger(),
        clientProtocol: new Ponger(),
        maxRounds: 50,
      }),
    ).to.throw(Error, /still busy after 50 rounds/);
  });

  it('rejects a maxRounds that is not a positive integer', () => {
    const { clientTransport, serverTransport } = pair();
    expect(() => new IOPump(clientTransport, serverTransport, { maxRounds: 0 })).to.throw(
      RangeError,
    );
  });

  describe('closing', () => {
    it('accepts writes after loseConnection until the FIN is sent', () => {
      const { client, server, pump } = pair();
      server.transport.write('last ');
      server.transport.loseConnection();
      server.transport.write('words');
      pump.flush();
      server.transport.write('ignored');
      pump.flush();
      expect(client.received).to.equal('last words');
    });

    it('loseConnection delivers pending bytes, then ConnectionDone on both ends', () => {
      const { client, server, pump } = pair();
      server.transport.write('last words');
      server.transport.loseConnection();
      expect(server.transport.disconnecting).to.equal(true);
      pump.flush();
      expect(client.received).to.equal('last words');
      expect(client.reasons).to.have.length(1);
      expect(server.reasons).to.have.length(1);
      expect(client.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('stops delivering to an end that called loseConnection', () => {
      const { client, server, pump } = pair();
      client.transport.loseConnection();
      server.transport.write('unread');
      pump.flush();
      expect(client.received).to.equal('');
      expect(client.reasons).to.have.length(1);
    });

    it('waits for a registered producer to unregister before closing', () => {
      const { client, server, pump } = pair();
      const producer: IPushProducer = {
        pauseProducing() {},
        resumeProducing() {},
        stopProducing() {},
      };
      server.transport.registerProducer(producer, true);
      server.transport.loseConnection();
      pump.flush();
      expect(client.reasons).to.have.length(0);
      server.transport.unregisterProducer();
      pump.flush();
      expect(client.reasons).to.have.length(1);
    });

    it('abortConnection drops pending bytes: ConnectionAborted here, ConnectionLost on the peer', () => {
      const { client, server, pump } = pair();
      server.transport.write('dropped');
      server.transport.abortConnection();
      pump.flush();
      expect(client.received).to.equal('');
      expect(server.reasons[0]!.check(ConnectionAborted)).to.equal(ConnectionAborted);
      expect(client.reasons[0]!.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(client.reasons[0]!.check(ConnectionAborted)).to.equal(null);
    });

    it('calls connectionLost once per end and ignores writes afterwards', () => {
      const { client, server, pump, clientTransport } = pair();
      client.transport.loseConnection();
      pump.flush();
      client.transport.loseConnection();
      client.transport.abortConnection();
      client.transport.write('ignored');
      expect(clientTransport.bufferedBytes).to.equal(0);
      pump.flush();
      expect(client.reasons).to.have.length(1);
      expect(server.reasons).to.have.length(1);
      expect(clientTransport.disconnected).to.equal(true);
    });

    it('stops a registered producer when the connection is lost', () => {
      const { server, pump, serverTransport } = pair();
      let stopped = 0;
      server.transport.registerProducer(
        { pauseProducing() {}, resumeProducing() {}, stopProducing: () => (stopped += 1) },
        true,
      );
      server.transport.abortConnection();
      pump.flush();
      expect(stopped).to.equal(1);
      expect(serverTransport.producer).to.equal(null);
    });
  });

  describe('half-close', () => {
    it('gives a half-closeable peer readConnectionLost and lets it keep writing', () => {
      const { client, server, pump, clientTransport, serverTransport } = connectedServerAndClient({
        serverProtocol: new HalfCloser(),
        clientProtocol: new HalfCloser(),
      });
      client.transport.write('request');
      client.transport.loseWriteConnection();
      // Before the FIN is out a write is still sent, as on TCP; after it, ignored.
      client.transport.write(' and more');
      pump.flush();
      client.transport.write('ignored after FIN');
      pump.flush();
      expect(server.received).to.equal('request and more');
      expect(server.readLost).to.equal(1);
      expect(client.writeLost).to.equal(1);
      expect(serverTransport.readDisconnected).to.equal(true);
      expect(clientTransport.writeDisconnected).to.equal(true);
      expect(server.reasons).to.have.length(0);

      server.transport.write('response');
      server.transport.loseConnection();
      pump.flush();
      expect(client.received).to.equal('response');
      expect(client.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('finishes the connection when both ends half-close', () => {
      const { client, server, pump } = connectedServerAndClient({
        serverProtocol: new HalfCloser(),
        clientProtocol: new HalfCloser(),
      });
      client.transport.loseWriteConnection();
      server.transport.loseWriteConnection();
      pump.flush();
      expect(client.reasons).to.have.length(1);
      expect(server.reasons).to.have.length(1);
    });

    it('closes the connection when the peer is not half-closeable', () => {
      const { client, server, pump } = connectedServerAndClient({
        serverProtocol: new Recorder(),
        clientProtocol: new HalfCloser(),
      });
      server.transport.write('pending');
      client.transport.loseWriteConnection();
      pump.flush();
      expect(client.received).to.equal('pending');
      expect(client.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
    });
  });

  describe('flow control', () => {
    it('pauses a streaming producer above the high-water mark and resumes it once drained', () => {
      const { server, pump } = connectedServerAndClient({
        serverProtocol: new Recorder(),
        clientProtocol: new Recorder(),
        highWaterMark: 4,
      });
      const calls: string[] = [];
      server.transport.registerProducer(
        {
          pauseProducing: () => calls.push('pause'),
          resumeProducing: () => calls.push('resume'),
          stopProducing: () => calls.push('stop'),
        },
        true,
      );
      server.transport.write('1234');
      expect(calls).to.deep.equal([]);
      server.transport.write('5');
      server.transport.write('6');
      expect(calls).to.deep.equal(['pause']);
      pump.pump();
      expect(calls).to.deep.equal(['pause', 'resume']);
    });

    it('asks a pull producer for data when registered and whenever the buffer empties', () => {
      const { client, server, pump, serverTransport } = pair();
      const parts = ['a', 'b', 'c'];
      const producer: IPullProducer = {
        resumeProducing: () => {
          const next = parts.shift();
          if (next === undefined) server.transport.unregisterProducer();
          else server.transport.write(next);
        },
        stopProducing() {},
      };
      server.transport.registerProducer(producer, false);
      pump.flush();
      expect(client.received).to.equal('abc');
      expect(serverTransport.producer).to.equal(null);
    });

    it('asks a pull producer that wrote nothing again only once something written has drained', () => {
      // The rule of the real transports (and Twisted's): a producer with
      // nothing to give is not asked in a busy loop at every drain.
      const { client, server, pump } = pair();
      let asked = 0;
      let next: string | null = null;
      server.transport.write('before');
      server.transport.registerProducer(
        {
          resumeProducing: () => {
            asked += 1;
            if (next !== null) server.transport.write(next);
            next = null;
          },
          stopProducing() {},
        },
        false,
      );
      expect(asked).to.equal(1);
      pump.flush();
      expect(client.received).to.equal('before');
      expect(asked).to.equal(1);
      next = 'produced';
      server.transport.write(' then ');
      pump.flush();
      // Asked when ' then ' drained (it wrote), and once more when that drained (it did not).
      expect(asked).to.equal(3);
      expect(client.received).to.equal('before then produced');
      pump.flush();
      expect(asked).to.equal(3);
    });

    it('still asks a pull producer after loseConnection, and closes once it unregisters', () => {
      const { client, server, pump } = pair();
      const parts = ['a', 'b'];
      server.transport.registerProducer(
        {
          resumeProducing: () => {
            const part = parts.shift();
            if (part === undefined) server.transport.unregisterProducer();
            else server.transport.write(part);
          },
          stopProducing() {},
        },
        false,
      );
      server.transport.loseConnection();
      pump.flush();
      expect(client.received).to.equal('ab');
      expect(client.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('with no producer, stops delivering to an end whose output is above the high-water mark until it drains', () => {
      const { client, server, pump, serverTransport } = connectedServerAndClient({
        serverProtocol: new Recorder(),
        clientProtocol: new Recorder(),
        highWaterMark: 4,
      });
      server.transport.write('12345');
      expect(serverTransport.producerState).to.equal('paused');
      client.transport.write('held');
      serverTransport.pauseProducing(); // a second reason: delivery waits for both to go
      pump.pump();
      expect(client.received).to.equal('12345');
      expect(server.received).to.equal('');
      serverTransport.resumeProducing();
      pump.flush();
      expect(server.received).to.equal('held');
    });

    it('holds bytes for an end whose transport is paused until it resumes', () => {
      const { client, server, pump, serverTransport } = pair();
      serverTransport.pauseProducing();
      client.transport.write('held');
      expect(pump.flush()).to.equal(false);
      expect(server.received).to.equal('');
      serverTransport.resumeProducing();
      pump.flush();
      expect(server.received).to.equal('held');
    });

    it('keeps the rest of a chunked delivery when the receiver pauses midway', () => {
      const { client, server, pump, serverTransport } = pair({ chunking: 2 });
      server.dataReceived = (data: Buffer): void => {
        server.chunks.push(data);
        serverTransport.pauseProducing();
      };
      client.transport.write('abcdef');
      pump.flush();
      expect(server.received).to.equal('ab');
      serverTransport.resumeProducing();
      pump.flush();
      expect(server.received).to.equal('abcd');
    });

    it('stopProducing on the transport closes the connection', () => {
      const { client, pump, clientTransport } = pair();
      clientTransport.stopProducing();
      pump.flush();
      expect(clientTransport.producerState).to.equal('stopped');
      expect(client.reasons).to.have.length(1);
    });
  });

  describe('errors thrown by protocols', () => {
    it('propagate from pump() by default, so the test fails at the cause', () => {
      const { client, pump } = connectedServerAndClient({
        serverProtocol: new Thrower(),
        clientProtocol: new Recorder(),
      });
      client.transport.write('boom');
      expect(() => pump.flush()).to.throw(RangeError, 'bad input');
    });

    it('with isolateErrors, are logged and abort that connection', () => {
      const logs = LogCapture.start();
      try {
        const { client, server, pump } = connectedServerAndClient({
          serverProtocol: new Thrower(),
          clientProtocol: new Recorder(),
          isolateErrors: true,
        });
        client.transport.write('boom');
        expect(() => pump.flush()).not.to.throw();
        const reason = server.reasons[0]!;
        expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
        expect((reason.value.cause as Error).message).to.equal('bad input');
        expect(client.reasons[0]!.check(ConnectionLost)).to.equal(ConnectionLost);
      } finally {
        logs.stop();
      }
      const failures = logs.failures();
      expect(failures).to.have.length(1);
      expect(failures[0]!.getTraceback()).to.match(/RangeError: bad input\n\s+at /);
    });

    it('propagate from the next pump() when thrown by a producer, leaving the connection open', () => {
      const { client, server, pump, serverTransport } = pair();
      let broken = false;
      server.transport.registerProducer(
        {
          resumeProducing: () => {
            if (broken) return;
            broken = true;
            throw new RangeError('producer broke');
          },
          stopProducing() {},
        },
        false,
      );
      expect(() => pump.pump()).to.throw(RangeError, 'producer broke');
      expect(serverTransport.disconnecting).to.equal(false);
      server.transport.write('still open');
      pump.flush();
      expect(client.received).to.equal('still open');
    });

    it('with isolateErrors, from a producer are logged and abort that connection', () => {
      const logs = LogCapture.start();
      try {
        const { client, server, pump } = connectedServerAndClient({
          serverProtocol: new Recorder(),
          clientProtocol: new Recorder(),
          highWaterMark: 1,
          isolateErrors: true,
        });
        server.transport.registerProducer(
          {
            pauseProducing: () => {
              throw new RangeError('cannot pause');
            },
            resumeProducing() {},
            stopProducing() {},
          },
          true,
        );
        server.transport.write('ab');
        expect(() => pump.flush()).not.to.throw();
        expect(client.received).to.equal('');
        expect((server.reasons[0]!.value.cause as Error).message).to.equal('cannot pause');
        expect(client.reasons[0]!.check(ConnectionLost)).to.equal(ConnectionLost);
      } finally {
        logs.stop();
      }
      expect(logs.failures()).to.have.length(1);
    });

    it('thrown by connectionLost still let the other end hear about the close', () => {
      const { client, server, pump } = pair();
      server.connectionLost = (): void => {
        throw new Error('in connectionLost');
      };
      client.transport.loseConnection();
      expect(() => pump.flush()).to.throw(Error, 'in connectionLost');
      expect(client.reasons).to.have.length(1);
    });

    it('thrown by connectedServerAndClient when connectionMade throws', () => {
      class Refuser extends Recorder {
        override connectionMade(): void {
          throw new RangeError('not today');
        }
      }
      expect(() =>
        connectedServerAndClient({ serverProtocol: new Refuser(), clientProtocol: new Recorder() }),
      ).to.throw(RangeError, 'not today');
    });
  });

  it('passes an echo protocol with every chunk size from 1 to 9', () => {
    for (let size = 1; size <= 9; size++) {
      const { client, pump } = connectedServerAndClient({
        serverFactory: Factory.forProtocol(Echo),
        clientProtocol: new Recorder(),
        chunking: fixedChunker(size),
      });
      client.transport.write('0123456789abcdef');
      pump.flush();
      expect(client.received, `chunk size ${size}`).to.equal('0123456789abcdef');
    }
  });

  it('a FakeTransport built by hand works with an IOPump built by hand', () => {
    const a = new Recorder();
    const b = new Recorder();
    const addr = new IPv6Address('TCP', '::1', 1);
    const ta = new FakeTransport(a, { hostAddress: addr, peerAddress: addr, isServer: false });
    const tb = new FakeTransport(b, { hostAddress: addr, peerAddress: addr, isServer: true });
    a.makeConnection(ta);
    b.makeConnection(tb);
    ta.write('x');
    new IOPump(ta, tb).flush();
    expect(b.received).to.equal('x');
  });
});

describe('connected flag', () => {
  it('is false by the time connectionLost runs, on both sides', () => {
    const seen: boolean[] = [];
    class Watcher extends Protocol {
      override connectionLost(): void {
        seen.push(this.connected);
      }
    }
    const { client, pump } = connectedServerAndClient({
      serverProtocol: new Watcher(),
      clientProtocol: new Watcher(),
    });
    client.transport.loseConnection();
    pump.flush();
    expect(seen).to.deep.equal([false, false]);
  });
});
