// Tests for src/internal/adopted-port.ts and NodeReactor.adoptStreamPort: a child is handed
// listening sockets from descriptor 3 with LISTEN_FDS/LISTEN_PID (by test/support/listen-fds.py, as
// systemd would), adopts them through systemd endpoints, and echoes over TCP (IPv4, IPv6) and a
// UNIX socket. Loopback and a temporary directory only; bounded in time.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type NetConnectOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Factory } from '../../src/factory.js';
import { NodeReactor } from '../../src/node-reactor.js';
import { Protocol } from '../../src/protocol.js';
import { CannotListenError } from '../../src/errors.js';

const PYTHON = '/usr/bin/python3';
const listenFds = fileURLToPath(new URL('../support/listen-fds.py', import.meta.url));
const child = fileURLToPath(new URL('../support/adopt-child.ts', import.meta.url));

function echoOnce(options: NetConnectOpts): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(options, () => socket.end('hello'));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
  });
}

describe('NodeReactor.adoptStreamPort (inherited descriptors, loopback)', function () {
  this.timeout(20_000);
  let dir = '';
  let proc: ChildProcessWithoutNullStreams | null = null;
  beforeEach(function () {
    if (!existsSync(PYTHON)) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'torsion-adopt-'));
  });
  afterEach(() => {
    proc?.kill();
    proc = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves TCP over IPv4 and IPv6 and a UNIX socket handed over as LISTEN_FDS, and unsets the variables', async () => {
    const path = join(dir, 'echo.sock');
    const started = spawn(PYTHON, [
      listenFds,
      'inet',
      'inet6',
      path,
      '--',
      process.execPath,
      '--import',
      'tsx',
      child,
      'INET',
      'INET6',
      'UNIX',
    ]);
    proc = started;
    const lines = createInterface({ input: started.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, unknown>> => {
      const line = await lines.next();
      if (line.done === true) throw new Error('the child exited early');
      return JSON.parse(line.value) as Record<string, unknown>;
    };
    const { addresses } = (await next()) as { addresses: [number, number, string] };
    expect(await next()).to.deep.equal({ fds: [3, 4, 5], leftInEnvironment: [] });
    const { hosts } = (await next()) as { hosts: string[] };
    expect(hosts[0]).to.contain(`127.0.0.1`).and.contain(String(addresses[0]));
    expect(hosts[2]).to.equal(path);
    expect(await echoOnce({ host: '127.0.0.1', port: addresses[0] })).to.equal('hello');
    expect(await echoOnce({ host: '::1', port: addresses[1] })).to.equal('hello');
    expect(await echoOnce({ path })).to.equal('hello');
    started.stdin.end();
    expect(await next()).to.deep.equal({ stopped: true });
  });

  it('a descriptor that is not a listening socket fails whenListening with CannotListenError', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    // Descriptor 0 is stdin here: a pipe or a file, not a listening socket.
    const port = reactor.adoptStreamPort(0, 'INET', Factory.forProtocol(Protocol));
    const failure = await port.whenListening().then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(CannotListenError);
  });

  it('refuses a bad descriptor or family with TypeError', () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const factory = Factory.forProtocol(Protocol);
    expect(() => reactor.adoptStreamPort(-1, 'INET', factory)).to.throw(TypeError, /fd must be/);
    expect(() => reactor.adoptStreamPort(3, 'IPX' as 'INET', factory)).to.throw(
      TypeError,
      /family must be/,
    );
  });
});
