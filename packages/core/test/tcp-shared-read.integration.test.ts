// The opt-in fast read path: a TCP port whose factory says
// `readsIntoSharedBuffer` delivers data in one reused buffer, and writing
// that data back stays correct when the peer reads slowly (the transport
// copies what Node cannot send at once). Loopback only, port 0, bounded.
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { Factory } from '../src/factory.js';
import type { ISharedReadBufferFactory } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { Protocol } from '../src/protocol.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { until } from './support/tcp-helpers.js';

const seen: ArrayBufferLike[] = [];

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    seen.push(data.buffer);
    this.transport.write(data);
  }
}

class SharedReadFactory extends Factory implements ISharedReadBufferFactory {
  readonly readsIntoSharedBuffer = true;
}

/** Copies of what EchoTwice read, in order. */
const readCopies: Buffer[] = [];

/** Writes every read back twice: once in pieces through writeSequence, once whole. */
class EchoTwice extends Protocol {
  override dataReceived(data: Buffer): void {
    readCopies.push(Buffer.from(data));
    const half = data.length >> 1;
    this.transport.writeSequence([data.subarray(0, half), data.subarray(half)]);
    this.transport.write(data);
  }
}

/** Ping-pong: sends each message, waits for `factor` times its bytes back, returns all that came back. */
async function pingPong(port: number, messages: Buffer[], factor = 1): Promise<Buffer> {
  const socket: Socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    let index = 0;
    let awaited = 0;
    const next = (): void => {
      const message = messages[index++];
      if (message === undefined) {
        socket.destroy();
        resolve();
        return;
      }
      awaited = message.length * factor;
      socket.write(message);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      awaited -= chunk.length;
      if (awaited === 0) next();
    });
    next();
  });
  return Buffer.concat(chunks);
}

function pattern(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + seed * 13 + (i >> 10)) & 0xff;
  return out;
}

/** Sends `data`, reads the echo back slowly (pausing between chunks), returns what came back. */
async function echoSlowly(port: number, data: Buffer): Promise<Buffer> {
  const socket: Socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    // Start reading late: the server's echoes fill the kernel's buffers and
    // then wait in Node, while the next reads arrive.
    socket.pause();
    setTimeout(() => socket.resume(), 300);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= data.length) {
        socket.destroy();
        resolve();
        return;
      }
      // A slow reader: the server's writes back up and wait in Node.
      socket.pause();
      setTimeout(() => socket.resume(), 1);
    });
    socket.write(data);
  });
  return Buffer.concat(chunks);
}

describe('NodeReactor TCP: reading into a shared buffer (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;

  beforeEach(() => {
    seen.length = 0;
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  async function listen(factory: Factory): Promise<number> {
    const port = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
    return port.getHost().port;
  }

  it('delivers reads of every connection in one reused buffer when the factory opts in', async function () {
    this.timeout(10_000);
    const port = await listen(SharedReadFactory.forProtocol(Echo));
    await Promise.all([echoSlowly(port, pattern(1000, 1)), echoSlowly(port, pattern(1000, 2))]);
    await until(() => seen.length >= 2, 2_000);
    expect(new Set(seen).size).to.equal(1);
  });

  it('echoes 16 MiB on 2 connections intact to late, slow readers (writes that wait are copies)', async function () {
    this.timeout(30_000);
    const port = await listen(SharedReadFactory.forProtocol(Echo));
    const sent = [1, 2].map((seed) => pattern(8 * 1024 * 1024, seed));
    const echoed = await Promise.all(sent.map((data) => echoSlowly(port, data)));
    echoed.forEach((back, i) => {
      expect(back.equals(sent[i] ?? Buffer.alloc(0)), `connection ${String(i)}`).to.equal(true);
    });
  });

  it("echoes 1 B to 100 KiB messages intact on fast connections while a slow reader's writes wait", async function () {
    this.timeout(30_000);
    const port = await listen(SharedReadFactory.forProtocol(Echo));
    const sizes = [1, 100, 1023, 1024, 4096, 10_240, 65_536, 65_537, 102_400, 7, 102_400, 3000];
    const fast = [1, 2, 3].map((seed) =>
      sizes.concat(sizes).map((size, i) => pattern(size, seed * 100 + i)),
    );
    const slowData = pattern(4 * 1024 * 1024, 9);
    const [slowBack, ...fastBack] = await Promise.all([
      echoSlowly(port, slowData),
      ...fast.map((messages) => pingPong(port, messages)),
    ]);
    expect(slowBack.equals(slowData), 'slow reader').to.equal(true);
    fastBack.forEach((back, i) => {
      expect(back.equals(Buffer.concat(fast[i] ?? [])), `fast connection ${String(i)}`).to.equal(
        true,
      );
    });
  });

  it('keeps received bytes written more than once, and through writeSequence, intact', async function () {
    this.timeout(30_000);
    const port = await listen(SharedReadFactory.forProtocol(EchoTwice));
    const messages = [1, 2, 3, 4].map((seed) => pattern(seed * 30_000, seed));
    readCopies.length = 0;
    const back = await pingPong(port, messages, 2);
    expect(Buffer.concat(readCopies).equals(Buffer.concat(messages)), 'what was read').to.equal(
      true,
    );
    expect(back.equals(Buffer.concat(readCopies.flatMap((r) => [r, r]))), 'echo').to.equal(true);
  });

  it('gives each read its own buffer when the factory does not opt in', async function () {
    this.timeout(10_000);
    const port = await listen(Factory.forProtocol(Echo));
    await echoSlowly(port, pattern(1000, 1));
    await echoSlowly(port, pattern(1000, 2));
    await until(() => seen.length >= 2, 2_000);
    expect(new Set(seen).size).to.be.greaterThan(1);
  });
});
