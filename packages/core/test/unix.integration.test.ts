// Real-socket tests of NodeReactor's UNIX-domain sockets: the socket file
// (stale vs live, mode, removal only while ours, wantPID/checkPID), abstract
// names, connect failures, and descriptors across many connections. Socket
// paths live in a fresh temp directory; every wait is bounded.
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import {
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIXAddress } from '../src/address.js';
import { CannotListenError, ConnectionDone, ConnectionRefusedError } from '../src/errors.js';
import { NodeReactor } from '../src/node-reactor.js';
import type { IUNIXTransport } from '../src/interfaces.js';
import { LogCapture } from '../src/testing/log-capture.js';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '../src/testing/index.js';

/** Leaves a socket file at `path` that nothing listens on, as a crashed server does. */
export async function makeStaleSocket(path: string): Promise<void> {
  const server = createServer();
  const bound = `${path}.binding`;
  await new Promise<void>((resolve) => server.listen(bound, resolve));
  // A hard link keeps the inode once Node unlinks the name it bound on close.
  linkSync(bound, path);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(bound);
  } catch {
    // Node removed it.
  }
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('NodeReactor UNIX sockets (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let dir: string;
  let logs: LogCapture;
  const servers: Server[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    dir = mkdtempSync(join(tmpdir(), 'torsion-unix-'));
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const s of servers.splice(0)) s.close();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function echoPair(path: string) {
    const serverFactory = new RecordingFactory(() => new EchoingProtocol());
    const port = await reactor.listenUNIX(path, serverFactory).whenListening();
    const clientFactory = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(path, clientFactory);
    const client = await clientFactory.firstBuilt;
    await client.made;
    return { port, client, serverFactory, clientFactory };
  }

  it('listens on a path, exchanges bytes, reports UNIXAddresses, and removes the file on stopListening', async () => {
    const path = join(dir, 's');
    const { port, client, serverFactory } = await echoPair(path);
    expect(port.getHost()).to.be.instanceOf(UNIXAddress);
    expect(port.getHost().name).to.equal(path);
    expect(lstatSync(path).isSocket()).to.equal(true);
    client.transport.write('ping');
    await client.waitForBytes(4);
    expect(client.text()).to.equal('ping');
    const t = client.transport as unknown as IUNIXTransport;
    expect(t.getPeer().name).to.equal(path);
    expect(t.getHost().name).to.equal(null);
    const server = await serverFactory.nth(1);
    const st = server.transport as unknown as IUNIXTransport;
    expect(st.getHost().name).to.equal(path);
    expect(st.getPeer().family).to.equal('UNIX');
    expect(readdirSync(dir)).to.deep.equal(['s']);
    await port.stopListening();
    expect(() => lstatSync(path)).to.throw(/ENOENT/);
    // The open connection survives.
    client.transport.write('still');
    await client.waitForBytes(9);
    client.transport.loseConnection();
    expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('applies mode to the socket file before it appears', async () => {
    const path = join(dir, 'm');
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new RecordingProtocol()), { mode: 0o600 })
      .whenListening();
    expect(lstatSync(path).mode & 0o777).to.equal(0o600);
    await port.stopListening();
  });

  it('replaces a stale socket file, never a live one, and leaves a plain file alone', async () => {
    const stale = join(dir, 'stale');
    await makeStaleSocket(stale);
    expect(lstatSync(stale).isSocket()).to.equal(true);
    const { client } = await echoPair(stale);
    client.transport.write('x');
    await client.waitForBytes(1);

    const live = join(dir, 'live');
    const other = createServer();
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(live, resolve));
    const failure = await reactor
      .listenUNIX(live, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening()
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).to.be.instanceOf(CannotListenError);
    expect((failure as CannotListenError).message).to.include(live);
    expect(((failure as Error).cause as { code?: string }).code).to.equal('EADDRINUSE');
    // The live server still serves.
    const probe = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(live, probe);
    await (
      await probe.firstBuilt
    ).made;

    const plain = join(dir, 'plain');
    writeFileSync(plain, 'data');
    const refused = await reactor
      .listenUNIX(plain, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening()
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(refused).to.be.instanceOf(CannotListenError);
    expect(lstatSync(plain).isFile()).to.equal(true);
  });

  it('stopListening leaves alone a file that replaced ours', async () => {
    const path = join(dir, 'r');
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening();
    unlinkSync(path);
    writeFileSync(path, 'someone else');
    await port.stopListening();
    expect(lstatSync(path).isFile()).to.equal(true);
  });

  it('wantPID keeps a Twisted-style lock, takes over a dead process lock, and checkPID follows it', async () => {
    const path = join(dir, 'p');
    const lock = `${path}.lock`;
    // A lock left by a process that is gone, over a stale socket.
    symlinkSync('999999999', lock);
    await makeStaleSocket(path);
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new EchoingProtocol()), { wantPID: true })
      .whenListening();
    expect(readlinkSync(lock)).to.equal(String(process.pid));
    // A second port with wantPID: the lock is held by a live process.
    const second = await reactor
      .listenUNIX(path, new RecordingFactory(() => new RecordingProtocol()), { wantPID: true })
      .whenListening()
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(second).to.be.instanceOf(CannotListenError);
    const checked = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(path, checked, { checkPID: true });
    await (
      await checked.firstBuilt
    ).made;
    await port.stopListening();
    expect(() => lstatSync(lock)).to.throw(/ENOENT/);
    const refused = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(path, refused, { checkPID: true });
    expect((await refused.failed).check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
  });

  it('connecting to a missing path or a stale file is a ConnectionRefusedError with the cause', async () => {
    const missing = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(join(dir, 'none'), missing);
    const reason = await missing.failed;
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect((reason.value.cause as { code?: string }).code).to.equal('ENOENT');
    const stale = join(dir, 'st');
    await makeStaleSocket(stale);
    const refused = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(stale, refused);
    const why = await refused.failed;
    expect((why.value.cause as { code?: string }).code).to.equal('ECONNREFUSED');
  });

  it('checkPID refuses before connecting when no lock names a live process', async () => {
    const path = join(dir, 'nolock');
    const refused = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(path, refused, { checkPID: true });
    const reason = await refused.failed;
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect(reason.getErrorMessage()).to.include('checkPID');
    expect(refused.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
  });

  it('supports Linux abstract-namespace names: no file, @name', async function () {
    if (process.platform !== 'linux') this.skip();
    const name = `\0torsion-test-${String(process.pid)}-${String(Date.now())}`;
    const { port, client } = await echoPair(name);
    expect(port.getHost().toString()).to.equal(`@${name.slice(1)}`);
    expect(readdirSync(dir)).to.deep.equal([]);
    client.transport.write('abstract');
    await client.waitForBytes(8);
    await port.stopListening();
  });

  it('2,000 connect/close cycles leak no descriptors', async function () {
    this.timeout(60000);
    const path = join(dir, 'leak');
    const serverFactory = new RecordingFactory(() => new EchoingProtocol());
    const port = await reactor.listenUNIX(path, serverFactory).whenListening();
    const cycle = async () => {
      const f = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectUNIX(path, f);
      const c = await f.firstBuilt;
      await c.made;
      c.transport.write('x');
      await c.waitForBytes(1);
      c.transport.loseConnection();
      await c.lost;
    };
    for (let i = 0; i < 50; i++) await cycle();
    const before = openDescriptors();
    for (let i = 0; i < 2000; i++) await cycle();
    // Let the server side of the last connections close.
    for (let i = 0; i < 100 && openDescriptors() > before; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(openDescriptors()).to.be.at.most(before);
    await port.stopListening();
  });

  it('rejects bad arguments with errors naming the field', () => {
    const f = new RecordingFactory(() => new RecordingProtocol());
    expect(() => reactor.listenUNIX('', f)).to.throw(TypeError, /path/);
    expect(() => reactor.listenUNIX('x'.repeat(200), f)).to.throw(RangeError, /107 bytes/);
    expect(() => reactor.listenUNIX(join(dir, 'a'), f, { mode: 0o10000 })).to.throw(
      RangeError,
      /mode/,
    );
    expect(() =>
      reactor.connectUNIX(
        join(dir, 'a'),
        new RecordingClientFactory(() => new RecordingProtocol()),
        { timeout: -1 },
      ),
    ).to.throw(RangeError, /timeout/);
  });
});
