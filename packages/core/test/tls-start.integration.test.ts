// Real-socket tests of startTLS on NodeReactor's TCP transport: the switch
// keeps plaintext written before it (even when buffered behind a peer that
// does not read) ahead of the first TLS byte, closes with close_notify (or
// not, on abort), half-closes, and keeps producers, backpressure and
// writeSequence working over TLS. The peer is Node's own TLS over a plain
// socket, so Torsion is checked against an independent end.
import { createServer, Socket, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls';
import { expect } from 'chai';

import { ConnectionAborted, ConnectionDone, TLSError } from '../src/errors.js';
import type { Failure } from '../src/failure.js';
import type { IHalfCloseableProtocol, IPushProducer, ITLSTransport } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import {
  RecordingClientFactory,
  RecordingProtocol,
  makeTestCertificates,
  serveOnLoopback,
} from '../src/testing/index.js';
import { optionsForClientTLS, serverTLSOptions } from '../src/tls-options.js';
import { until } from './support/tcp-helpers.js';

const certs = makeTestCertificates();
const serverOptions = serverTLSOptions(certs.server);
const clientOptions = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });

/** A protocol recording the TLS hooks and the half-close callbacks. */
class TLSRecorder extends RecordingProtocol implements IHalfCloseableProtocol {
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
  }

  tlsStarting(): void {
    this.events.push('tlsStarting');
  }

  readConnectionLost(): void {
    this.events.push('readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }

  get tls(): ITLSTransport {
    return this.transport as unknown as ITLSTransport;
  }
}

function tlsCode(reason: Failure): string | undefined {
  const error = reason.value;
  return error instanceof TLSError ? error.code : undefined;
}

/**
 * A stream over `socket` that first yields `head` (bytes already read in
 * plaintext past the point where TLS starts), for Node's TLS to run on.
 */
function streamOver(socket: Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
  });
  // Given back to the socket, so Node's TLS reads it first, once it reads at all.
  if (head.length > 0) socket.unshift(head);
  socket.on('data', (data: Buffer) => {
    if (!stream.push(data)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('error', (err) => stream.destroy(err));
  return stream;
}

/** What a Node TLS peer saw. */
class PeerRecord {
  readonly chunks: Buffer[] = [];
  error: Error | null = null;
  ended = false;
  secure = false;
  closed = false;

  constructor(readonly socket: TLSSocket) {
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('error', (e: Error) => {
      this.error = e;
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('secure', () => {
      this.secure = true;
    });
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** Node TLS server end over a raw socket, `head` being TLS bytes already read from it. */
function nodeTLSServer(socket: Socket, head: Buffer): PeerRecord {
  const options = {
    isServer: true,
    allowHalfOpen: true,
    secureContext: createSecureContext({ key: certs.server.key, cert: certs.server.cert }),
  };
  return new PeerRecord(new TLSSocket(streamOver(socket, head), options));
}

/** Node TLS client end over a raw socket. */
function nodeTLSClient(socket: Socket, head: Buffer = Buffer.alloc(0)): PeerRecord {
  return new PeerRecord(
    tlsConnect({
      socket: streamOver(socket, head),
      servername: 'localhost',
      ca: certs.ca.cert,
      allowHalfOpen: true,
    } as never),
  );
}

/** Reads exactly `n` plaintext bytes from `socket`; returns them and what came after. */
async function readPlain(socket: Socket, n: number): Promise<{ plain: Buffer; rest: Buffer }> {
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer): void => {
      chunks.push(data);
      total += data.length;
      if (total >= n) {
        socket.off('data', onData);
        socket.pause();
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
  const all = Buffer.concat(chunks);
  return { plain: all.subarray(0, n), rest: all.subarray(n) };
}

describe('startTLS on a TCP connection (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let servers: Server[];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    servers = [];
  });

  afterEach(async () => {
    for (const server of servers) server.close();
    reactor.stop();
    await done;
  });

  /** A raw Node server whose accepted sockets arrive paused; returns its port and a queue. */
  async function rawServer(): Promise<{ port: number; accepted: Promise<Socket> }> {
    let resolveAccepted!: (socket: Socket) => void;
    const accepted = new Promise<Socket>((resolve) => {
      resolveAccepted = resolve;
    });
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      resolveAccepted(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    return { port: address.port, accepted };
  }

  /** A Torsion client connected to a raw Node server. */
  async function torsionClient(): Promise<{ client: TLSRecorder; peer: Socket }> {
    const { port, accepted } = await rawServer();
    const factory = new RecordingClientFactory(() => new TLSRecorder());
    reactor.connectTCP('127.0.0.1', port, factory);
    const client = await factory.firstBuilt;
    await client.made;
    return { client, peer: await accepted };
  }

  it('sends MiBs of plaintext buffered behind a paused peer before the ClientHello, and encrypts what follows', async () => {
    const { client, peer } = await torsionClient();
    const size = 4 * 1024 * 1024;
    const pattern = Buffer.alloc(size);
    for (let i = 0; i < size; i++) pattern[i] = (i * 7 + (i >> 12)) & 0xff;
    for (let offset = 0; offset < size; offset += 65536) {
      client.transport.write(pattern.subarray(offset, offset + 65536));
    }
    expect(
      (client.transport as unknown as { writeBufferSize: number }).writeBufferSize,
    ).to.be.above(0);
    client.tls.startTLS(clientOptions);
    expect(client.events).to.include('tlsStarting');
    client.transport.write('secret after the switch');
    client.transport.writeSequence(['; and ', 'a sequence']);
    const { plain, rest } = await readPlain(peer, size);
    expect(plain.equals(pattern)).to.equal(true);
    // Whatever came after the plaintext is TLS: a handshake record.
    if (rest.length > 0) expect(rest[0]).to.equal(0x16);
    const server = nodeTLSServer(peer, rest);
    await until(() => server.text() === 'secret after the switch; and a sequence');
    await until(() => client.events.includes('handshakeCompleted'));
    expect(client.tls.secure).to.equal(true);
    expect(client.tls.getTLSVersion()).to.equal('TLSv1.3');
    expect(client.tls.getPeerCertificate()?.subject.CN).to.equal('localhost');
    server.socket.write('reply over TLS');
    await until(() => client.text() === 'reply over TLS');
    client.transport.loseConnection();
    expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
    // The peer's end came from our close_notify: no error.
    await until(() => server.ended);
    expect(server.error).to.equal(null);
  });

  it('answers a ClientHello as the server side, after a plaintext greeting', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new TLSRecorder());
    const raw = await new Promise<Socket>((resolve, reject) => {
      const socket = new Socket({ allowHalfOpen: true });
      socket.connect(port, '127.0.0.1', () => {
        resolve(socket);
      });
      socket.once('error', reject);
    });
    const server = (await factory.waitForBuilt(1))[0]!;
    server.transport.write('220 ready for STARTTLS\r\n');
    server.tls.startTLS(serverOptions);
    server.transport.write('encrypted greeting');
    const { plain, rest } = await readPlain(raw, '220 ready for STARTTLS\r\n'.length);
    expect(plain.toString()).to.equal('220 ready for STARTTLS\r\n');
    expect(rest.length).to.equal(0);
    const client = nodeTLSClient(raw);
    await until(() => client.text() === 'encrypted greeting');
    await until(() => server.events.includes('handshakeCompleted'));
    client.socket.write('hi');
    await until(() => server.text() === 'hi');
    // Our abort sends no close_notify: the peer sees a reset, not an end.
    server.transport.abortConnection();
    expect((await server.lost).value).to.be.instanceOf(ConnectionAborted);
    await until(() => client.closed);
    expect(client.ended).to.equal(false);
    expect(client.error).to.not.equal(null);
  });

  it('half-closes over TLS 1.3: close_notify and FIN out, still reading; the peer’s close_notify is readConnectionLost', async () => {
    const { client, peer } = await torsionClient();
    client.tls.startTLS(clientOptions);
    const server = nodeTLSServer(peer, Buffer.alloc(0));
    peer.resume();
    await until(() => client.events.includes('handshakeCompleted'));
    client.transport.write('request');
    client.transport.loseWriteConnection();
    await until(() => server.ended);
    expect(server.text()).to.equal('request');
    await until(() => client.events.includes('writeConnectionLost'));
    server.socket.write('response after your close_notify');
    await until(() => client.text() === 'response after your close_notify');
    server.socket.end();
    await until(() => client.events.includes('readConnectionLost'));
    const reason = await client.lost;
    expect(reason.value).to.be.instanceOf(ConnectionDone);
    expect(server.error).to.equal(null);
  });

  it('pauses and resumes a streaming producer over TLS, and delivers everything in order', async () => {
    const { client, peer } = await torsionClient();
    client.tls.startTLS(clientOptions);
    const server = nodeTLSServer(peer, Buffer.alloc(0));
    peer.resume();
    await until(() => client.events.includes('handshakeCompleted'));
    server.socket.pause();
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const total = 8 * 1024 * 1024;
    let written = 0;
    let pauses = 0;
    let paused = false;
    const produce = (): void => {
      while (!paused && written < total) {
        client.transport.write(chunk);
        written += chunk.length;
      }
      if (written >= total) {
        client.transport.unregisterProducer();
        client.transport.loseConnection();
      }
    };
    const producer: IPushProducer = {
      pauseProducing() {
        paused = true;
        pauses++;
      },
      resumeProducing() {
        paused = false;
        setImmediate(produce);
      },
      stopProducing() {
        paused = true;
      },
    };
    client.transport.registerProducer(producer, true);
    produce();
    expect(pauses).to.be.greaterThan(0);
    let received = 0;
    server.socket.removeAllListeners('data');
    server.socket.on('data', (d: Buffer) => {
      received += d.length;
    });
    server.socket.resume();
    expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
    await until(() => server.ended);
    expect(received).to.equal(total);
    expect(pauses).to.be.greaterThan(1);
  });

  it('ends the connection with a TLSError when the peer is not trusted', async () => {
    const { client, peer } = await torsionClient();
    client.tls.startTLS(optionsForClientTLS('localhost', { trustRoot: certs.otherCa.cert }));
    nodeTLSServer(peer, Buffer.alloc(0));
    peer.resume();
    const reason = await client.lost;
    expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
    expect(client.events).to.not.include('handshakeCompleted');
  });

  it('throws from startTLS twice, after a close, or with options not from the builders', async () => {
    const { client: closed } = await torsionClient();
    closed.transport.loseConnection();
    expect(() => {
      closed.tls.startTLS(clientOptions);
    }).to.throw(Error, /closing/);
    const { client } = await torsionClient();
    expect(() => {
      client.tls.startTLS({} as never);
    }).to.throw(TypeError);
    expect(client.tls.secure).to.equal(false);
    expect(client.tls.getPeerCertificate()).to.equal(null);
    expect(client.tls.getCipher()).to.equal(null);
    expect(client.tls.getTLSVersion()).to.equal(null);
    expect(client.tls.negotiatedProtocol).to.equal(null);
    client.tls.startTLS(clientOptions);
    expect(() => {
      client.tls.startTLS(clientOptions);
    }).to.throw(Error, /already/);
    // The peer never answers: loseConnection waits for the handshake, abort does not.
    client.transport.loseConnection();
    expect(client.transport.disconnecting).to.equal(true);
    expect(() => {
      client.tls.startTLS(clientOptions);
    }).to.throw(Error);
    client.transport.abortConnection();
    expect((await client.lost).value).to.be.instanceOf(ConnectionAborted);
  });
});
