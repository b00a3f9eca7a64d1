// The example and @torsion/echo on BunReactor: the same Protocol code that
// NodeReactor serves, unchanged, over real loopback sockets.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { echo, EchoFactory, LineEchoFactory } from '@torsion/echo';
import { BunReactor } from '../src/index.js';
import { serveEcho } from '../examples/echo-server.js';
import { RawPeer } from './support/helpers.js';

const EXAMPLE = fileURLToPath(new URL('../examples/echo-server.ts', import.meta.url));

describe('@torsion/echo on BunReactor (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  it("serves @torsion/echo's Echo and answers its echo() client, both on BunReactor", async () => {
    const port = await reactor
      .listenTCP(0, new EchoFactory(), { interface: '127.0.0.1' })
      .whenListening();
    const back = await echo('any bytes at all', {
      host: '127.0.0.1',
      port: port.getHost().port,
      reactor,
    });
    expect(back.toString()).to.equal('any bytes at all');
  });

  it('serves LineEcho: only complete lines come back', async () => {
    const port = await reactor
      .listenTCP(0, new LineEchoFactory(), { interface: '127.0.0.1' })
      .whenListening();
    const back = await echo('first\r\nsecond\r\nno newline yet', {
      host: '127.0.0.1',
      port: port.getHost().port,
      reactor,
      timeout: 5,
    });
    expect(back.toString()).to.equal('first\r\nsecond\r\n');
  });

  it('serveEcho() from the example echoes 1 MiB intact', async () => {
    const listening = await serveEcho(reactor);
    const peer = await RawPeer.connect(listening.getHost().port);
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    let offset = 0;
    while (offset < data.length) {
      const n = peer.socket.write(data.subarray(offset, offset + 64 * 1024));
      if (n > 0) offset += n;
      await Bun.sleep(0);
    }
    await peer.waitForBytes(data.length);
    expect(peer.bytes().equals(data)).to.equal(true);
  });

  it('runs the example as a program: prints its port, echoes, exits 0 on SIGINT', async function () {
    this.timeout(20_000);
    const child = Bun.spawn([process.execPath, EXAMPLE, '0'], {
      stdout: 'pipe',
      stderr: 'pipe',
    });
    try {
      const reader = child.stdout.getReader();
      let out = '';
      while (!out.includes('\n')) {
        const { value, done: ended } = await reader.read();
        if (ended) break;
        out += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      expect(match, out).to.not.equal(null);
      const peer = await RawPeer.connect(Number(match![1]));
      peer.socket.write('ping from a test');
      await peer.waitForBytes(16);
      expect(peer.text()).to.equal('ping from a test');
      child.kill('SIGINT');
      expect(await child.exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
