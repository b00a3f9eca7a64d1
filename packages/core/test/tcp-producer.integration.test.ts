// Real-socket tests of flow control: streaming and pull producers on a
// TCPTransport, and the default backpressure that pauses reading when a
// protocol's output piles up. Loopback only, bounded.
import { expect } from 'chai';
import type { IPullProducer, IPushProducer } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { ConnectionDone } from '../src/errors.js';
import { EchoingProtocol, RecordingProtocol, serveOnLoopback } from '../src/testing/index.js';
import { rawConnect, type RawClient, until } from './support/tcp-helpers.js';

const CHUNK = Buffer.alloc(16 * 1024, 0x78);
const HWM = 64 * 1024;

/** The transport's user-space output buffer (a TCPTransport extra, not in ITCPTransport). */
function bufferedOf(protocol: RecordingProtocol): number {
  return (protocol.transport as unknown as { writeBufferSize: number }).writeBufferSize;
}

/** Writes 16 KiB chunks whenever it is not paused, forever (bounded by the test). */
class Firehose extends RecordingProtocol implements IPushProducer {
  paused = false;
  pauses = 0;
  resumes = 0;
  stopped = false;
  written = 0;
  maxBuffered = 0;
  #scheduled = false;

  override connectionMade(): void {
    super.connectionMade();
    this.transport.registerProducer(this, true);
    this.#pump();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }

  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    this.#pump();
  }

  stopProducing(): void {
    this.stopped = true;
  }

  #pump(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      // Write until paused; the transport must pause us promptly.
      for (let i = 0; i < 1000 && !this.paused && !this.stopped && this.connected; i++) {
        this.transport.write(CHUNK);
        this.written += CHUNK.length;
        this.maxBuffered = Math.max(this.maxBuffered, bufferedOf(this));
      }
      if (!this.paused && !this.stopped && this.connected) this.#pump();
    });
  }
}

describe('TCPTransport producers and backpressure (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let raws: RawClient[];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    raws = [];
  });

  afterEach(async () => {
    for (const raw of raws) raw.socket.destroy();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  const serve = <P extends RecordingProtocol>(make: () => P) => serveOnLoopback(reactor, make);

  async function raw(port: number): Promise<RawClient> {
    const client = await rawConnect(port);
    raws.push(client);
    return client;
  }

  it('pauses a streaming producer while the peer does not read, with bounded output, and resumes it when the peer reads', async () => {
    const { factory, port } = await serve(() => new Firehose());
    const client = await raw(port);
    client.socket.pause();
    const [server] = await factory.waitForBuilt(1);
    await until(() => server!.paused);
    // Let the kernel buffers fill; the producer must stay paused and Node's
    // buffer must stay within the mark plus the one chunk that crossed it.
    const writtenWhenPaused = server!.written;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server!.paused).to.equal(true);
    expect(server!.written).to.equal(writtenWhenPaused);
    expect(server!.maxBuffered).to.be.at.most(HWM + CHUNK.length);
    expect(bufferedOf(server!)).to.be.at.most(HWM + CHUNK.length);

    client.socket.resume();
    await until(() => server!.resumes > 0);
    expect(server!.pauses).to.be.greaterThan(0);
    server!.transport.unregisterProducer();
    server!.stopProducing();
    server!.transport.loseConnection();
    expect((await server!.lost).check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('delivers everything a paused-and-resumed streaming producer wrote, in order', async () => {
    const { factory, port } = await serve(() => new Firehose());
    const client = await raw(port);
    client.socket.pause();
    const [server] = await factory.waitForBuilt(1);
    await until(() => server!.paused);
    client.socket.resume();
    await until(() => server!.resumes > 0 && server!.written > 4 * HWM);
    server!.stopProducing();
    server!.transport.unregisterProducer();
    server!.transport.loseConnection();
    await client.closed;
    expect(client.received().length).to.equal(server!.written);
  });

  it('asks a pull producer for data each time the buffer drains, and finishes with loseConnection', async () => {
    const total = 200;
    class Pull extends RecordingProtocol implements IPullProducer {
      count = 0;
      stopped = false;

      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(this, false);
      }

      resumeProducing(): void {
        this.transport.write(`line ${this.count}\n`);
        if (++this.count === total) {
          this.transport.unregisterProducer();
          this.transport.loseConnection();
        }
      }

      stopProducing(): void {
        this.stopped = true;
      }
    }
    const { factory, port } = await serve(() => new Pull());
    const client = await raw(port);
    await client.closed;
    const lines = client.received().toString().trim().split('\n');
    expect(lines).to.have.length(total);
    expect(lines[total - 1]).to.equal(`line ${total - 1}`);
    expect(factory.built[0]!.stopped).to.equal(false);
  });

  it('does not ask a pull producer again in a busy loop when it wrote nothing', async () => {
    class Idle extends RecordingProtocol implements IPullProducer {
      asked = 0;
      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(this, false);
      }
      resumeProducing(): void {
        this.asked++;
      }
      stopProducing(): void {}
      override dataReceived(data: Buffer): void {
        super.dataReceived(data);
        // A write after an idle round asks the producer again once it drains.
        this.transport.write(data);
      }
    }
    const { factory, port } = await serve(() => new Idle());
    const client = await raw(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(server!.asked).to.equal(1);
    client.socket.write('x');
    await until(() => server!.asked === 2);
  });

  it('throws when a second producer is registered, and stops the producer when the connection is lost', async () => {
    const { factory, port } = await serve(() => new RecordingProtocol());
    const client = await raw(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    let stopped = 0;
    const producer: IPushProducer = {
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {
        stopped++;
      },
    };
    server!.transport.registerProducer(producer, true);
    expect(() => {
      server!.transport.registerProducer(producer, true);
    }).to.throw(Error, /already registered/);
    // A reset, not a FIN: with a producer registered, a FIN would only start a
    // loseConnection() that waits for the producer to unregister.
    client.socket.resetAndDestroy();
    await server!.lost;
    expect(stopped).to.equal(1);
    // Registering on a closed transport stops the producer at once.
    server!.transport.registerProducer(producer, true);
    expect(stopped).to.equal(2);
  });

  it('waits for the producer to be unregistered before loseConnection closes', async () => {
    const { factory, port } = await serve(() => new RecordingProtocol());
    const client = await raw(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    server!.transport.registerProducer(
      { pauseProducing() {}, resumeProducing() {}, stopProducing() {} },
      true,
    );
    server!.transport.loseConnection();
    server!.transport.write('still flowing');
    await client.waitForBytes(13);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(client.ended).to.equal(false);
    server!.transport.unregisterProducer();
    await client.closed;
    expect(client.received().toString()).to.equal('still flowing');
  });

  it('does not wait for the transport itself when it is its own producer', async () => {
    // An echo that pauses its own reads when its writes back up registers the
    // transport as its own producer; that must not hold the close forever.
    const { factory, port } = await serve(() => new RecordingProtocol());
    const client = await raw(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    server!.transport.registerProducer(server!.transport, true);
    server!.transport.write('bye');
    server!.transport.loseConnection();
    await client.closed;
    expect(client.ended).to.equal(true);
    expect(client.received().toString()).to.equal('bye');
    const reason = await server!.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('stops promptly with a connection whose transport is its own producer', async () => {
    const { factory, port } = await serve(() => new RecordingProtocol());
    await raw(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    server!.transport.registerProducer(server!.transport, true);
    reactor.stop();
    await done;
    const reason = await server!.lost;
    // A clean close within the turn, not an abort after the grace period.
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
  });

  describe('default backpressure', () => {
    it('stops reading from a peer that sends but never reads, and resumes once it reads', async () => {
      const { factory, port } = await serve(() => new EchoingProtocol());
      const client = await raw(port);
      client.socket.pause();
      const [server] = await factory.waitForBuilt(1);
      // Send far more than every buffer on the path can hold.
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      let stalled = false;
      for (let i = 0; i < 400 && !stalled; i++) {
        if (!client.socket.write(chunk)) {
          await Promise.race([
            new Promise((resolve) => client.socket.once('drain', resolve)),
            new Promise((resolve) => setTimeout(resolve, 100)),
          ]);
          stalled = client.socket.writableLength > 0;
        }
        sent += chunk.length;
      }
      // The server stopped reading: our writes stall instead of the server buffering everything.
      expect(stalled).to.equal(true);
      const echoedSoFar = server!.received().length;
      expect(echoedSoFar).to.be.lessThan(sent);
      // Everything the server read but could not send is bounded by the mark plus one read.
      client.socket.resume();
      await client.waitForBytes(sent);
      expect(client.received().length).to.equal(sent);
    });

    it('respects a protocol that paused reading itself when the buffer drains', async () => {
      class Pauser extends EchoingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.pauseProducing();
        }
      }
      const { factory, port } = await serve(() => new Pauser());
      const client = await raw(port);
      const [server] = await factory.waitForBuilt(1);
      await server!.made;
      client.socket.write('hello');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(server!.received().length).to.equal(0);
      server!.transport.resumeProducing();
      expect((await client.waitForBytes(5)).toString()).to.equal('hello');
    });
  });
});
