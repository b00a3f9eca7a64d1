// Real-socket tests of closing and flow control on NodeReactor's TLS
// transports: loseConnection sends close_notify then the FIN, after
// everything written; abortConnection resets the TCP connection with no
// close_notify (a TLS socket refuses resetAndDestroy(), so the transport
// resets the TCP socket under it); half-close over TLS 1.3; backpressure
// from a peer that does not read; pausing our reads. A TCP relay records the
// raw bytes, and the peers speak TLS 1.2 where the test looks at record
// types (TLS 1.3 hides an alert's type inside application-data records).
import { expect } from 'chai';
import { createServer as createTLSServer, type TLSSocket } from 'node:tls';
import { errorCode } from '../src/error-code.js';
import { ConnectionAborted, ConnectionDone } from '../src/errors.js';
import type { IPushProducer } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';
import {
  HalfCloseRecordingProtocol,
  RecordingClientFactory,
  RecordingFactory,
} from '../src/testing/index.js';
import { optionsForClientTLS } from '../src/tls-options.js';
import {
  certs,
  RawTLSClient,
  RecordingRelay,
  serverOptions,
  TLSEchoProtocol,
  TLSRecordingProtocol,
} from './support/tls-helpers.js';
import { until } from './support/tcp-helpers.js';

const ALERT = 21;

/** What BaseTransport adds to ITCPTransport about the output buffer. */
function bufferOf(protocol: TLSRecordingProtocol): {
  writeBufferSize: number;
  writeHighWaterMark: number;
} {
  return protocol.transport as unknown as { writeBufferSize: number; writeHighWaterMark: number };
}
const APPLICATION_DATA = 23;

describe('NodeReactor TLS closing and flow control (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;
  const cleanups: (() => void)[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const cleanup of cleanups.splice(0)) cleanup();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  async function listen<P extends TLSRecordingProtocol | HalfCloseRecordingProtocol>(
    make: () => P,
  ): Promise<{ port: number; factory: RecordingFactory<P> }> {
    const factory = new RecordingFactory(make);
    const listening = reactor.listenSSL(0, factory, serverOptions(), { interface: '127.0.0.1' });
    await listening.whenListening();
    return { port: listening.getHost().port, factory };
  }

  async function relayTo(port: number): Promise<RecordingRelay> {
    const relay = await RecordingRelay.start(port);
    cleanups.push(() => relay.close());
    return relay;
  }

  function rawClient(port: number, options = {}): RawTLSClient {
    const client = new RawTLSClient(port, options);
    cleanups.push(() => client.socket.destroy());
    return client;
  }

  describe('loseConnection', () => {
    it('on the server: flushes 1 MiB, then sends close_notify and the FIN; the server sees ConnectionDone', async () => {
      const payload = Buffer.alloc(1024 * 1024, 0x61);
      class Sender extends TLSRecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.write(payload);
          this.transport.loseConnection();
        }
      }
      const { port, factory } = await listen(() => new Sender());
      const relay = await relayTo(port);
      const client = rawClient(relay.port, { maxVersion: 'TLSv1.2' });
      await client.ended;
      expect(client.received().equals(payload)).to.equal(true);
      await relay.fromTarget.ended;
      expect(relay.fromTarget.end).to.equal('fin');
      const types = relay.fromTarget.recordTypes();
      expect(types.at(-1), 'the last record is the close_notify alert').to.equal(ALERT);
      expect(types.filter((t) => t === ALERT)).to.have.length(1);
      const server = await factory.nth(1);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.error).to.equal(null);
    });

    it('on the client: sends close_notify before the FIN, and both ends see ConnectionDone', async () => {
      const tlsServer = createTLSServer(
        {
          key: certs.server.key,
          cert: certs.server.cert,
          maxVersion: 'TLSv1.2',
          allowHalfOpen: true,
        },
        (socket: TLSSocket) => {
          socket.on('error', () => {});
          socket.on('end', () => socket.end());
        },
      );
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => tlsServer.close());
      const relay = await relayTo((tlsServer.address() as { port: number }).port);

      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL(
        '127.0.0.1',
        relay.port,
        factory,
        optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }),
      );
      const client = await factory.firstBuilt;
      await client.made;
      expect(client.snapshot!.version).to.equal('TLSv1.2');
      client.transport.write('last words');
      client.transport.loseConnection();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      await relay.fromClient.ended;
      expect(relay.fromClient.end).to.equal('fin');
      expect(relay.fromClient.recordTypes().slice(-2)).to.deep.equal([APPLICATION_DATA, ALERT]);
      expect((await factory.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    });
  });

  describe('abortConnection', () => {
    it('on the server: resets the TCP connection with no close_notify; ConnectionAborted here, ECONNRESET at the peer', async () => {
      class Aborter extends TLSRecordingProtocol {
        override dataReceived(data: Buffer): void {
          super.dataReceived(data);
          this.transport.abortConnection();
        }
      }
      const { port, factory } = await listen(() => new Aborter());
      const relay = await relayTo(port);
      const client = rawClient(relay.port, { maxVersion: 'TLSv1.2' });
      await client.secured;
      client.socket.write('abort please');
      const server = await factory.nth(1);
      expect((await server.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      expect(server.lostCount).to.equal(1);
      await relay.fromTarget.ended;
      expect(relay.fromTarget.end).to.equal('reset');
      expect(relay.fromTarget.recordTypes()).to.not.include(ALERT);
      await client.closed;
      expect(errorCode(client.error)).to.equal('ECONNRESET');
      expect(logs.events.filter((e) => e.level === 'error')).to.deep.equal([]);
    });

    it('on the server with megabytes still unsent: resets at once, the peer gets fewer bytes', async () => {
      class Flooder extends TLSRecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.write(Buffer.alloc(8 * 1024 * 1024));
        }
      }
      const { port, factory } = await listen(() => new Flooder());
      const client = rawClient(port);
      await client.secured;
      client.socket.pause();
      const server = await factory.nth(1);
      await server.made;
      await until(() => bufferOf(server).writeBufferSize > 0);
      server.transport.abortConnection();
      expect((await server.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      client.socket.resume();
      await client.closed;
      expect(client.received().length).to.be.lessThan(8 * 1024 * 1024);
    });

    it('on the client: resets the TCP connection with no close_notify', async () => {
      const { port, factory } = await listen(() => new TLSEchoProtocol());
      const relay = await relayTo(port);
      const clientFactory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL(
        '127.0.0.1',
        relay.port,
        clientFactory,
        optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }),
      );
      const client = await clientFactory.firstBuilt;
      await client.made;
      const server = await factory.nth(1);
      await server.made;
      client.transport.abortConnection();
      expect((await client.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      await relay.fromClient.ended;
      expect(relay.fromClient.end).to.equal('reset');
      // TLS 1.3 here: after the handshake only application-data records, so
      // it is the reset, not a record type, that shows no close_notify went out.
      expect(relay.fromClient.recordTypes()).to.not.include(ALERT);
      // The server only learns that the connection is gone.
      await server.lost;
      expect(server.lostCount).to.equal(1);
    });
  });

  describe('half-close (TLS 1.3)', () => {
    it("the peer's close_notify is readConnectionLost; the server still writes, then closes cleanly", async () => {
      class Replier extends HalfCloseRecordingProtocol {
        override readConnectionLost(): void {
          super.readConnectionLost();
          this.transport.write(`got ${this.byteCount} bytes`);
          this.transport.loseConnection();
        }
      }
      const { port, factory } = await listen(() => new Replier() as never);
      const client = rawClient(port, { allowHalfOpen: true });
      await client.secured;
      client.socket.end('half');
      await client.ended;
      expect(client.received().toString()).to.equal('got 4 bytes');
      const server = (await factory.nth(1)) as unknown as Replier;
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.events).to.deep.equal([
        'connectionMade',
        'readConnectionLost',
        'connectionLost',
      ]);
    });

    it('loseWriteConnection sends close_notify and keeps reading: writeConnectionLost runs, the peer can still send', async () => {
      class HalfCloser extends HalfCloseRecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.write('bye for now');
          (this.transport as unknown as { loseWriteConnection(): void }).loseWriteConnection();
        }
      }
      const { port, factory } = await listen(() => new HalfCloser() as never);
      const client = rawClient(port, { allowHalfOpen: true });
      await client.ended;
      expect(client.received().toString()).to.equal('bye for now');
      const server = (await factory.nth(1)) as unknown as HalfCloser;
      await server.writeLost;
      client.socket.end('still talking');
      await server.readLost;
      expect(server.received().toString()).to.equal('still talking');
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    });
  });

  describe('flow control', () => {
    it('pauses a streaming producer while the TLS peer does not read, and resumes it when it reads', async () => {
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      class Producer extends TLSRecordingProtocol implements IPushProducer {
        paused = 0;
        resumed = 0;
        written = 0;
        #stopped = false;
        override connectionMade(): void {
          super.connectionMade();
          this.transport.registerProducer(this, true);
          this.#produce();
        }
        #produce(): void {
          while (
            this.paused === this.resumed &&
            !this.#stopped &&
            this.written < 16 * chunk.length
          ) {
            this.transport.write(chunk);
            this.written += chunk.length;
          }
          if (this.written >= 16 * chunk.length) {
            this.transport.unregisterProducer();
            this.transport.loseConnection();
          }
        }
        pauseProducing(): void {
          this.paused++;
        }
        resumeProducing(): void {
          this.resumed++;
          setImmediate(() => this.#produce());
        }
        stopProducing(): void {
          this.#stopped = true;
        }
      }
      const { port, factory } = await listen(() => new Producer());
      const client = rawClient(port);
      await client.secured;
      client.socket.pause();
      const server = (await factory.nth(1)) as Producer;
      await until(() => server.paused > 0);
      const { writeBufferSize, writeHighWaterMark } = bufferOf(server);
      expect(writeBufferSize).to.be.greaterThan(writeHighWaterMark);
      expect(server.written).to.be.lessThan(16 * chunk.length);
      client.socket.resume();
      await client.ended;
      expect(client.received().length).to.equal(16 * chunk.length);
      expect(server.resumed).to.be.greaterThan(0);
    });

    it('pauseProducing stops delivering what the peer sends; resumeProducing delivers it all, in order', async () => {
      const { port, factory } = await listen(() => new TLSRecordingProtocol());
      const client = rawClient(port);
      await client.secured;
      const server = await factory.nth(1);
      await server.made;
      server.transport.pauseProducing();
      const payload = Buffer.alloc(2 * 1024 * 1024);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 253;
      const flushed = client.socket.write(payload);
      // The peer's writes back up: we are not reading.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.byteCount).to.be.lessThan(payload.length);
      expect(flushed).to.equal(false);
      server.transport.resumeProducing();
      expect((await server.waitForBytes(payload.length)).equals(payload)).to.equal(true);
    });
  });
});
