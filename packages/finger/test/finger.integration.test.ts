// The finger server and client over real loopback sockets: queries, two of
// our servers forwarding between them, and hostile clients.
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { NodeReactor } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { finger } from '../src/finger-client.js';
import { FingerFactory, type FingerFactoryOptions } from '../src/finger-server.js';
import { startFingerServer } from '../examples/finger-server.js';

/** Sends `data` on a raw socket and resolves with everything received until the server closes. */
function rawExchange(port: number, data: string | null, sockets: Socket[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(received);
    });
    if (data !== null) socket.write(data);
  });
}

describe('finger over TCP (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let sockets: Socket[];
  let logs: LogCapture;

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    sockets = [];
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const socket of sockets) socket.destroy();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  async function serve(options: FingerFactoryOptions): Promise<number> {
    const factory = new FingerFactory({ reactor, ...options });
    const port = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
    return port.getHost().port;
  }

  it('answers finger() with the user info', async () => {
    const port = await serve({ users: { alice: 'Down the rabbit hole' } });
    const reply = await finger('alice', { host: '127.0.0.1', port, reactor });
    expect(reply).to.equal('Login: alice\nDown the rabbit hole\n');
  });

  it('forwards alice@127.0.0.1 from one of our servers to another', async () => {
    const inner = await serve({ users: { alice: 'Inner info' } });
    const outer = await serve({ forwarding: true, forwardPort: inner });
    const reply = await finger('alice@127.0.0.1', { host: '127.0.0.1', port: outer, reactor });
    expect(reply).to.equal('Login: alice\nInner info\n');
  });

  it('refuses to forward by default', async () => {
    const port = await serve({});
    const reply = await finger('alice@127.0.0.1', { host: '127.0.0.1', port, reactor });
    expect(reply).to.equal('Finger forwarding service denied\n');
  });

  it('closes a connection whose query is too long, and keeps serving others', async () => {
    const port = await serve({ users: { alice: 'ok' } });
    const hostile = rawExchange(port, 'x'.repeat(5000), sockets);
    const fine = finger('alice', { host: '127.0.0.1', port, reactor });
    expect(await hostile).to.equal('Finger query too long\r\n');
    expect(await fine).to.equal('Login: alice\nok\n');
  });

  it('disconnects a client that never sends its query', async () => {
    const port = await serve({ idleTimeout: 0.05 });
    expect(await rawExchange(port, null, sockets)).to.equal('');
  });

  it('fails finger() with ConnectionRefusedError when nothing listens', async () => {
    const closed = await reactor
      .listenTCP(0, new FingerFactory(), { interface: '127.0.0.1' })
      .whenListening();
    const free = closed.getHost().port;
    await closed.stopListening();
    const error = await finger('a', { host: '127.0.0.1', port: free, reactor }).then(
      () => null,
      (err: unknown) => err,
    );
    expect((error as { code?: string }).code).to.equal('TORSION_ERR_CONNECTION_REFUSED');
  });

  it('runs the example server with the sample users file', async () => {
    const listening = await startFingerServer(reactor, 0).whenListening();
    const port = listening.getHost().port;
    expect(await finger('', { host: '127.0.0.1', port, reactor })).to.equal('alice\nbob\nmoshez\n');
    expect(await finger('moshez', { host: '127.0.0.1', port, reactor })).to.equal(
      'Login: moshez\nHappy and well\n',
    );
  });
});
