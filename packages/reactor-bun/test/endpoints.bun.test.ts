// Endpoints on BunReactor under Bun, over loopback: serverFromString/clientFromString for tcp:,
// ssl:/tls: and unix:, HostnameEndpoint racing ::1 and 127.0.0.1, a cancelled connect, and
// adoptStreamPort (the systemd: endpoint) on sockets handed over as systemd does.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type NetConnectOpts } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clientFromString,
  ConnectingCancelledError,
  Factory,
  HostnameEndpoint,
  Protocol,
  serverFromString,
  StaticNameResolver,
  type IAddress,
  type IEndpointProtocolFactory,
  type IListeningPort,
} from '@torsion/core';
import {
  EchoingProtocol,
  RecordingFactory,
  RecordingProtocol,
  writeTestCertificates,
} from '@torsion/core/testing';
import { BunReactor } from '../src/index.js';

const PYTHON = '/usr/bin/python3';
const listenFds = fileURLToPath(new URL('../../core/test/support/listen-fds.py', import.meta.url));
const adoptChild = fileURLToPath(new URL('./support/adopt-child.ts', import.meta.url));

/** Sends a word over a plain socket and resolves with what came back before the close. */
function rawEcho(options: NetConnectOpts): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(options, () => socket.end('adopted'));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

function portOf(port: IListeningPort<IAddress>): number {
  const host = port.getHost();
  if (host.type === 'UNIX') throw new Error('not an IP port');
  return host.port;
}

function recording(): IEndpointProtocolFactory<RecordingProtocol> {
  return { buildProtocol: () => new RecordingProtocol(), doStart() {}, doStop() {} };
}

async function echoes(client: RecordingProtocol, text: string): Promise<void> {
  client.transport.write(text);
  await client.waitForBytes(text.length);
  expect(client.text()).to.equal(text);
  client.transport.loseConnection();
  await client.lost;
}

describe('endpoints on BunReactor (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;
  let dir = '';

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    dir = mkdtempSync(join(tmpdir(), 'torsion-bun-endpoints-'));
  });
  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
    rmSync(dir, { recursive: true, force: true });
  });

  const echoFactory = (): RecordingFactory<EchoingProtocol> =>
    new RecordingFactory(() => new EchoingProtocol());

  it('tcp: from strings, both ends', async () => {
    const port = await serverFromString(reactor, 'tcp:0:interface=127.0.0.1').listen(echoFactory());
    const client = await clientFromString(reactor, `tcp:127.0.0.1:${String(portOf(port))}`).connect(
      recording(),
    );
    await echoes(client, 'bun');
  });

  it('ssl: and tls: from strings, files relative to cwd, the client verifying the server', async () => {
    writeTestCertificates(dir);
    const port = await serverFromString(
      reactor,
      'ssl:0:privateKey=server.key:certKey=server.pem:interface=127.0.0.1',
      {
        cwd: dir,
      },
    ).listen(echoFactory());
    const client = await clientFromString(
      reactor,
      `tls:localhost:${String(portOf(port))}:caCerts=ca.pem`,
      {
        cwd: dir,
      },
    ).connect(recording());
    await echoes(client, 'secure');
  });

  it('unix: from strings', async () => {
    const path = join(dir, 'echo.sock');
    await serverFromString(reactor, `unix:${path}`).listen(echoFactory());
    const client = await clientFromString(reactor, `unix:${path}`).connect(recording());
    await echoes(client, 'local');
  });

  it('HostnameEndpoint connects to the address that listens', async () => {
    const port = await serverFromString(reactor, 'tcp:0:interface=127.0.0.1').listen(echoFactory());
    const resolver = new StaticNameResolver({ 'both.test': ['::1', '127.0.0.1'] });
    const client = await new HostnameEndpoint(reactor, 'both.test', portOf(port), {
      resolver,
    }).connect(recording());
    expect(client.transport.getPeer()).to.include({ host: '127.0.0.1' });
    await echoes(client, 'raced');
  });

  it('a cancelled connect fails with ConnectingCancelledError', async () => {
    const port = await serverFromString(reactor, 'tcp:0:interface=127.0.0.1').listen(echoFactory());
    const attempt = clientFromString(reactor, `tcp:127.0.0.1:${String(portOf(port))}`).connect(
      recording(),
    );
    attempt.cancel();
    const failure = await attempt.then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(ConnectingCancelledError);
  });

  it('adoptStreamPort serves sockets handed over as systemd does: TCP over IPv4 and IPv6, and UNIX', async function () {
    if (!existsSync(PYTHON)) this.skip(); // /usr/bin/python3 hands the sockets over
    const path = join(dir, 'echo.sock');
    const child = spawn(PYTHON, [
      listenFds,
      'inet',
      'inet6',
      path,
      '--',
      process.execPath,
      adoptChild,
      'INET',
      'INET6',
      'UNIX',
    ]);
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const next = async (): Promise<Record<string, unknown>> => {
        const line = await lines.next();
        if (line.done === true) throw new Error('the child exited early');
        return JSON.parse(line.value) as Record<string, unknown>;
      };
      const { addresses } = (await next()) as { addresses: [number, number, string] };
      expect(await next()).to.deep.equal({ fds: [3, 4, 5], leftInEnvironment: false });
      const { hosts } = (await next()) as { hosts: string[] };
      expect(hosts).to.deep.equal([
        `127.0.0.1:${String(addresses[0])}`,
        `[::1]:${String(addresses[1])}`,
        path,
      ]);
      expect(await rawEcho({ host: '127.0.0.1', port: addresses[0] })).to.equal('adopted');
      expect(await rawEcho({ host: '::1', port: addresses[1] })).to.equal('adopted');
      expect(await rawEcho({ path })).to.equal('adopted');
      child.stdin.end();
      expect(await next()).to.deep.equal({ stopped: true });
    } finally {
      child.kill();
    }
  });

  it('adoptStreamPort refuses a bad descriptor or family with TypeError', () => {
    const factory = Factory.forProtocol(Protocol);
    expect(() => reactor.adoptStreamPort(-1, 'INET', factory)).to.throw(TypeError, /fd must be/);
    expect(() => reactor.adoptStreamPort(3, 'IPX' as 'INET', factory)).to.throw(
      TypeError,
      /family/,
    );
  });
});
