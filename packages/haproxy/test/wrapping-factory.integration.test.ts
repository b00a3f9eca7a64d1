// Real-socket tests of the PROXY protocol on the Node reactor: a Torsion
// client sends the header through ProxyHeaderClientFactory, a header
// trickles in a byte per TCP segment, garbage and silence are closed; an
// echo reading into the shared read buffer stays byte-exact behind it.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { clientFromString, Factory, IPv4Address, NodeReactor, Protocol } from '@torsion/core';
import { LogCapture, RecordingFactory } from '@torsion/core/testing';
import { expect } from 'chai';
import { LimitConnectionsByPeer, ThrottlingFactory, TimeoutFactory } from '@torsion/policies';
import { ProxyHeaderClientFactory } from '../src/client.js';
import { encodeProxyV2 } from '../src/encoder.js';
import { HAProxyWrappingFactory, type HAProxyWrappingOptions } from '../src/wrapping-factory.js';

/** Says who it thinks it talks to, then echoes. */
class Reporter extends Protocol {
  made = false;
  override connectionMade(): void {
    this.made = true;
    this.transport.write(
      `peer=${this.transport.getPeer().toString()} host=${this.transport.getHost().toString()}\n`,
    );
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** Collects a reply until it has `until` or the connection ends. */
class Reader extends Protocol {
  text = '';
  readonly #want: number;
  readonly #done: (text: string) => void;
  constructor(want: number, done: (text: string) => void) {
    super();
    this.#want = want;
    this.#done = done;
  }
  override connectionMade(): void {
    this.transport.write('ping');
  }
  override dataReceived(data: Buffer): void {
    this.text += data.toString();
    if (this.text.length >= this.#want) {
      this.#done(this.text);
      this.transport.loseConnection();
    }
  }
}

function rawClient(
  port: number,
): Promise<{ socket: Socket; data: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => {}); // a reset is a close here
    socket.once('connect', () => resolve({ socket, data: () => text, closed }));
    socket.once('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

describe('HAProxyWrappingFactory over real sockets (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;
  const sockets: Socket[] = [];

  beforeEach(() => {
    logs = LogCapture.start();
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    reactor.stop();
    await done;
    logs.stop();
  });

  async function serve(
    options: HAProxyWrappingOptions = {},
  ): Promise<{ port: number; inner: RecordingFactory<Reporter> }> {
    const inner = new RecordingFactory(() => new Reporter());
    const listening = await reactor
      .listenTCP(0, new HAProxyWrappingFactory(inner, { reactor, ...options }), {
        interface: '127.0.0.1',
      })
      .whenListening();
    return { port: listening.getHost().port, inner };
  }

  for (const version of [1, 2] as const) {
    it(`a Torsion client relaying a client through a v${String(version)} header is seen as that client`, async () => {
      const { port } = await serve();
      const source = new IPv4Address('TCP', '203.0.113.7', 51000);
      const destination = new IPv4Address('TCP', '198.51.100.1', 443);
      let reply = '';
      const expected = 'peer=203.0.113.7:51000 host=198.51.100.1:443\nping';
      const got = new Promise<void>((resolve) => {
        const factory = new ProxyHeaderClientFactory(
          Factory.forProtocol(
            class extends Reader {
              constructor() {
                super(expected.length, (text) => {
                  reply = text;
                  resolve();
                });
              }
            },
          ),
          { version, source, destination },
        );
        void clientFromString(reactor, `tcp:127.0.0.1:${String(port)}`).connect(factory);
      });
      await got;
      expect(reply).to.equal(expected);
    });
  }

  it('a header arriving one byte per TCP segment is buffered, not refused', async () => {
    const { port } = await serve();
    const client = await rawClient(port);
    sockets.push(client.socket);
    const header = encodeProxyV2({
      source: new IPv4Address('TCP', '192.0.2.9', 1234),
      destination: new IPv4Address('TCP', '192.0.2.1', 80),
    });
    for (const byte of header) {
      client.socket.write(Buffer.of(byte));
      await sleep(2);
    }
    client.socket.write('after');
    for (let i = 0; i < 200 && !client.data().includes('after'); i++) await sleep(5);
    expect(client.data()).to.equal('peer=192.0.2.9:1234 host=192.0.2.1:80\nafter');
  });

  it('a connection that sends no header is closed with a log line; the protocol never starts', async () => {
    const { port, inner } = await serve();
    const client = await rawClient(port);
    sockets.push(client.socket);
    client.socket.write('GET / HTTP/1.1\r\n\r\n');
    await client.closed;
    expect(client.data()).to.equal('');
    expect(inner.built.every((p) => !p.made)).to.equal(true);
    expect(logs.messages('warn').join('\n')).to.match(/does not start with a PROXY header/);
  });

  it('a connection that goes silent mid-header is closed after headerTimeout', async () => {
    const { port } = await serve({ headerTimeout: 0.2 });
    const client = await rawClient(port);
    sockets.push(client.socket);
    client.socket.write('PROXY TCP4 ');
    const started = Date.now();
    await client.closed;
    expect(Date.now() - started).to.be.within(100, 3000);
    expect(logs.messages('warn').join('\n')).to.match(/no complete PROXY header within 0.2 s/);
  });

  it('a connection from outside trustedProxies is refused with a log line', async () => {
    const { port, inner } = await serve({ trustedProxies: ['10.0.0.0/8'] });
    const client = await rawClient(port);
    sockets.push(client.socket);
    await client.closed;
    expect(inner.built).to.have.length(0);
    expect(logs.messages('warn').join('\n')).to.match(
      /refused a connection from 127\.0\.0\.1:\d+: not in trustedProxies \(10\.0\.0\.0\/8\)/,
    );
  });

  it('an echo that reads into the shared buffer stays byte-exact behind the header and policy wrappers', async () => {
    /** Echo with the Node reactor's shared read buffer: `data` is valid only during the call. */
    class SharedEcho extends Protocol {
      override dataReceived(data: Buffer): void {
        this.transport.write(data);
      }
    }
    const echo = Object.assign(Factory.forProtocol(SharedEcho), { readsIntoSharedBuffer: true });
    const factory = new HAProxyWrappingFactory(
      new TimeoutFactory(
        new ThrottlingFactory(new LimitConnectionsByPeer(echo, 2), {
          readLimitPerConnection: 64 << 20,
          clock: reactor,
        }),
        { timeoutPeriod: 30, clock: reactor },
      ),
      { reactor },
    );
    expect(factory.readsIntoSharedBuffer).to.equal(true);
    const listening = await reactor
      .listenTCP(0, factory, { interface: '127.0.0.1' })
      .whenListening();
    const socket = connect({ host: '127.0.0.1', port: listening.getHost().port, noDelay: true });
    sockets.push(socket);
    const received: Buffer[] = [];
    let length = 0;
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      length += chunk.length;
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    const header = encodeProxyV2({
      source: new IPv4Address('TCP', '192.0.2.9', 1234),
      destination: new IPv4Address('TCP', '192.0.2.1', 80),
    });
    // The header in two reads, so its first part waits across a reuse of the read buffer.
    socket.write(header.subarray(0, 11));
    await sleep(30);
    const payload = randomBytes(2 << 20);
    socket.write(Buffer.concat([header.subarray(11), payload.subarray(0, 1000)]));
    for (let offset = 1000; offset < payload.length; offset += 65536) {
      socket.write(payload.subarray(offset, offset + 65536));
    }
    const state = { closed: false };
    socket.on('close', () => (state.closed = true));
    for (let i = 0; i < 1000 && length < payload.length && !state.closed; i++) await sleep(10);
    expect(length).to.equal(payload.length);
    expect(Buffer.concat(received).equals(payload)).to.equal(true);
  });
});
