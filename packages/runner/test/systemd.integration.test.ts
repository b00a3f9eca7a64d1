// systemd socket activation for real: systemd-socket-activate (Debian package `systemd`) listens on
// a loopback port and, on the first connection, starts `torsion echo --listen
// systemd:domain=INET:index=0` with the socket as descriptor 3 and LISTEN_FDS/LISTEN_PID set; the
// echo answers on the inherited socket. Also a UNIX socket in a temporary directory, a socket
// picked by its name (--fdname, LISTEN_FDNAMES), and the same under Bun (BunReactor). Skipped, with
// the reason, where the tool is missing.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type NetConnectOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');
const ACTIVATE = '/usr/bin/systemd-socket-activate';
const bunBinary = join(repoRoot, 'node_modules/.bin/bun');

/** A loopback port nothing listens on right now (systemd-socket-activate needs a fixed one). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts systemd-socket-activate on `address`; resolves once it listens, rejects if it exits first. */
async function activate(
  address: string,
  endpoint: string,
  runtime: string = process.execPath,
  moreOptions: readonly string[] = [],
): Promise<ChildProcess> {
  const args = ['-l', address, ...moreOptions, runtime, bin, 'echo', '--listen', endpoint];
  const child = spawn(ACTIVATE, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  await new Promise<void>((resolvePromise, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('Listening on ')) resolvePromise();
    });
    child.on('exit', (code) => {
      reject(new Error(`systemd-socket-activate exited ${String(code)}: ${stderr}`));
    });
  });
  return child;
}

function echoOnce(options: NetConnectOpts): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(options, () => socket.write('activated'));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received === 'activated') {
        socket.end();
        resolvePromise(received);
      }
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`timed out; got '${received}'`)));
  });
}

describe('torsion echo under systemd socket activation (systemd-socket-activate)', function () {
  this.timeout(30_000);
  let child: ChildProcess | null = null;
  let dir = '';

  before(function () {
    if (!existsSync(ACTIVATE)) {
      this.skip(); // systemd-socket-activate is missing: install the Debian package `systemd`
    }
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-systemd-'));
  });
  afterEach(async () => {
    if (child !== null && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    child = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves echo on the inherited TCP socket (domain=INET, index=0)', async () => {
    // A port picked free may be taken before systemd-socket-activate binds it: retry a few times.
    let port = 0;
    for (let attempt = 1; child === null; attempt++) {
      port = await freePort();
      try {
        child = await activate(`127.0.0.1:${String(port)}`, 'systemd:domain=INET:index=0');
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
    expect(await echoOnce({ host: '127.0.0.1', port })).to.equal('activated');
    // The same process keeps serving: a second client is answered too.
    expect(await echoOnce({ host: '127.0.0.1', port })).to.equal('activated');
  });

  it('serves echo on an inherited UNIX socket (domain=UNIX)', async () => {
    const path = join(dir, 'echo.sock');
    child = await activate(path, 'systemd:domain=UNIX:index=0');
    expect(await echoOnce({ path })).to.equal('activated');
  });

  it('serves echo on the socket named in LISTEN_FDNAMES (name=), not on the other one', async () => {
    const other = join(dir, 'other.sock');
    const path = join(dir, 'named.sock');
    child = await activate(other, 'systemd:domain=UNIX:name=echo', process.execPath, [
      '-l',
      path,
      '--fdname=other:echo',
    ]);
    expect(await echoOnce({ path })).to.equal('activated');
    // The first socket is still systemd's, unserved: a connection waits in its queue unanswered.
    const waiting = connect({ path: other });
    let answered = false;
    waiting.on('data', () => {
      answered = true;
    });
    waiting.on('error', () => {});
    await once(waiting, 'connect');
    waiting.write('anyone?');
    await new Promise((resolve) => setTimeout(resolve, 300));
    waiting.destroy();
    expect(answered).to.equal(false);
  });

  it('serves echo on an inherited socket under Bun (BunReactor, the native reactor there)', async function () {
    if (!existsSync(bunBinary)) this.skip(); // Bun is not installed (npm ci installs it)
    const path = join(dir, 'bun-echo.sock');
    child = await activate(path, 'systemd:domain=UNIX:index=0', bunBinary);
    expect(await echoOnce({ path })).to.equal('activated');
  });
});
