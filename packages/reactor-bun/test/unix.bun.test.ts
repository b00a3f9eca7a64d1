// BunReactor's UNIX-domain sockets over real socket files: the file is
// removed only while it is still the port's (Bun's own stop() would remove
// whatever is at the path), mode, stale vs live, wantPID/checkPID, connect
// failures, abstract names, and descriptors across 2,000 connections. Socket
// paths live in a fresh temp directory; every wait is bounded.
import { expect } from 'chai';
import {
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CannotListenError, ConnectionDone, ConnectionRefusedError } from '@torsion/core';
import type { IUNIXTransport } from '@torsion/core';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import { BunReactor } from '../src/index.js';

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('BunReactor UNIX sockets (real files)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;
  let dir: string;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    dir = mkdtempSync(join(tmpdir(), 'torsion-bun-unix-'));
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(path: string): Promise<RecordingProtocol> {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(path, factory);
    const client = await Promise.race([
      factory.firstBuilt,
      factory.failed.then((reason) => {
        throw new Error(`connect failed: ${reason.getErrorMessage()}`);
      }),
    ]);
    await client.made;
    return client;
  }

  /** Leaves a socket file at `path` that nothing listens on, as a crashed server does. */
  async function makeStaleSocket(path: string): Promise<void> {
    const bound = `${path}.bound`;
    const port = await reactor
      .listenUNIX(bound, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening();
    linkSync(bound, path);
    await port.stopListening();
  }

  it('echoes, reports UNIX addresses, applies mode, and removes its file on stopListening', async () => {
    const path = join(dir, 'echo.sock');
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new EchoingProtocol()), { mode: 0o600 })
      .whenListening();
    expect(lstatSync(path).isSocket()).to.equal(true);
    expect(lstatSync(path).mode & 0o777).to.equal(0o600);
    // No temporary directory is left next to the path.
    expect(readdirSync(dir)).to.deep.equal(['echo.sock']);
    const client = await connect(path);
    const transport = client.transport as unknown as IUNIXTransport;
    expect(transport.getPeer().name).to.equal(path);
    expect(transport.getHost().family).to.equal('UNIX');
    client.transport.write('over bun');
    await client.waitForBytes(8);
    expect(client.text()).to.equal('over bun');
    client.transport.loseConnection();
    expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    await port.stopListening();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it("stopListening leaves alone another server's socket that replaced ours, and it keeps serving", async () => {
    const path = join(dir, 'r.sock');
    const ours = await reactor
      .listenUNIX(path, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening();
    const theirs = await reactor
      .listenUNIX(join(dir, 'other.sock'), new RecordingFactory(() => new EchoingProtocol()))
      .whenListening();
    renameSync(join(dir, 'other.sock'), path);
    await ours.stopListening();
    expect(lstatSync(path).isSocket(), 'the replacement survives').to.equal(true);
    const client = await connect(path);
    client.transport.write('theirs');
    await client.waitForBytes(6);
    expect(client.text()).to.equal('theirs');
    await theirs.stopListening();
  });

  it('stopListening leaves alone a plain file that replaced ours', async () => {
    const path = join(dir, 'f.sock');
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening();
    unlinkSync(path);
    writeFileSync(path, 'someone else');
    await port.stopListening();
    expect(lstatSync(path).isFile()).to.equal(true);
  });

  it('replaces a stale socket file, never a live one', async () => {
    const stale = join(dir, 'stale.sock');
    await makeStaleSocket(stale);
    expect(lstatSync(stale).isSocket()).to.equal(true);
    await reactor
      .listenUNIX(stale, new RecordingFactory(() => new EchoingProtocol()))
      .whenListening();
    const client = await connect(stale);
    client.transport.write('fresh');
    await client.waitForBytes(5);
    const failure = await reactor
      .listenUNIX(stale, new RecordingFactory(() => new RecordingProtocol()))
      .whenListening()
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).to.be.instanceOf(CannotListenError);
    expect(((failure as Error).cause as { code?: string }).code).to.equal('EADDRINUSE');
    const again = await connect(stale);
    again.transport.write('still');
    await again.waitForBytes(5);
    expect(again.text()).to.equal('still');
  });

  it('wantPID keeps a Twisted-style lock, takes over a dead process lock, and checkPID follows it', async () => {
    const path = join(dir, 'p.sock');
    const lock = `${path}.lock`;
    symlinkSync('999999999', lock);
    await makeStaleSocket(path);
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new EchoingProtocol()), { wantPID: true })
      .whenListening();
    expect(readlinkSync(lock)).to.equal(String(process.pid));
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
    const reason = await refused.failed;
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect(reason.getErrorMessage()).to.include('checkPID');
  });

  it('a missing path or a stale file is a ConnectionRefusedError with the cause', async () => {
    const missing = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(join(dir, 'none.sock'), missing);
    const reason = await missing.failed;
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect((reason.value.cause as { code?: string }).code).to.equal('ENOENT');
    const stale = join(dir, 'st.sock');
    await makeStaleSocket(stale);
    const refused = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(stale, refused);
    const why = await refused.failed;
    expect((why.value.cause as { code?: string }).code).to.equal('ECONNREFUSED');
  });

  it('abstract-namespace names: no file, @name', async () => {
    const name = `\0torsion-bun-test-${String(process.pid)}-${String(Date.now())}`;
    const port = await reactor
      .listenUNIX(name, new RecordingFactory(() => new EchoingProtocol()))
      .whenListening();
    expect(port.getHost().toString()).to.equal(`@${name.slice(1)}`);
    const client = await connect(name);
    client.transport.write('abstract');
    await client.waitForBytes(8);
    expect(readdirSync(dir)).to.deep.equal([]);
    await port.stopListening();
  });

  it('2,000 connect/close cycles leak no descriptors', async function () {
    this.timeout(60000);
    const path = join(dir, 'leak.sock');
    const port = await reactor
      .listenUNIX(path, new RecordingFactory(() => new EchoingProtocol()))
      .whenListening();
    const cycle = async () => {
      const c = await connect(path);
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
});
