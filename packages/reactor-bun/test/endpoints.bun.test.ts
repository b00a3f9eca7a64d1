// Endpoints on BunReactor under Bun, over loopback: serverFromString/clientFromString for tcp:,
// ssl:/tls: and unix:, HostnameEndpoint racing ::1 and 127.0.0.1, a cancelled connect, and
// adoptStreamPort (the systemd: endpoint) refused with an error naming the capability.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clientFromString,
  ConnectingCancelledError,
  EndpointError,
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

  it('refuses adoptStreamPort, naming the capability', () => {
    expect(() => reactor.adoptStreamPort(3, 'INET', Factory.forProtocol(Protocol))).to.throw(
      Error,
      /capability adoptStreamPort/,
    );
    // This process inherited no sockets, so the endpoint itself already says so.
    expect(() => serverFromString(reactor, 'systemd:domain=INET:index=0')).to.throw(
      EndpointError,
      /index=0/,
    );
  });
});
