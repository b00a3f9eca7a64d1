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

  it('gives each read its own buffer when the factory does not opt in', async function () {
    this.timeout(10_000);
    const port = await listen(Factory.forProtocol(Echo));
    await echoSlowly(port, pattern(1000, 1));
    await echoSlowly(port, pattern(1000, 2));
    await until(() => seen.length >= 2, 2_000);
    expect(new Set(seen).size).to.be.greaterThan(1);
  });
});
