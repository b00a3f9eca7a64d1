// Tests for UNIX sockets on the simulated reactor (simulated-unix-files.ts,
// simulated-unix-port.ts, simulated-unix-connector.ts): each host's own file
// namespace, stale vs live files, plain files left alone, wantPID/checkPID
// locks, a replaced file surviving stopListening, the link conditions a
// UNIX connection runs under, and connections the network can reset.
import { expect } from 'chai';

import { UNIXAddress } from '../../../src/address.js';
import { CannotListenError, ConnectionLost, ConnectionRefusedError } from '../../../src/errors.js';
import type { Failure } from '../../../src/failure.js';
import type { IListeningPort } from '../../../src/interfaces.js';
import { EchoingProtocol } from '../../../src/testing/echoing-protocol.js';
import { RecordingClientFactory } from '../../../src/testing/recording-client-factory.js';
import { RecordingFactory } from '../../../src/testing/recording-factory.js';
import { RecordingProtocol } from '../../../src/testing/recording-protocol.js';
import type { SimulatedHost } from '../../../src/testing/simulated/simulated-host.js';
import { SimulatedReactor } from '../../../src/testing/simulated/simulated-reactor.js';

function echoFactory() {
  return new RecordingFactory(() => new EchoingProtocol());
}

async function listenFailure(port: IListeningPort<UNIXAddress>): Promise<unknown> {
  return port.whenListening().then(
    () => null,
    (err: unknown) => err,
  );
}

async function connected(host: SimulatedHost | SimulatedReactor, path: string) {
  const factory = new RecordingClientFactory(() => new RecordingProtocol());
  host.connectUNIX(path, factory);
  const client = await Promise.race([
    factory.firstBuilt,
    factory.failed.then((f: Failure) => {
      throw new Error(`connect failed: ${f.getErrorMessage()}`);
    }),
  ]);
  await client.made;
  return client;
}

async function refusal(host: SimulatedHost | SimulatedReactor, path: string, checkPID = false) {
  const factory = new RecordingClientFactory(() => new RecordingProtocol());
  host.connectUNIX(path, factory, { checkPID });
  return factory.failed;
}

describe('SimulatedReactor UNIX sockets', () => {
  let reactor: SimulatedReactor;
  let done: Promise<void>;

  beforeEach(() => {
    reactor = new SimulatedReactor({ link: { latency: 0.01 } });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  it('echoes over a path, with UNIX addresses, and removes the file on stopListening', async () => {
    const files = reactor.localhost.unixFiles;
    const port = await reactor
      .listenUNIX('/run/echo.sock', echoFactory(), { mode: 0o600 })
      .whenListening();
    expect(files.stat('/run/echo.sock')).to.deep.equal({ socket: true, mode: 0o600 });
    const client = await connected(reactor, '/run/echo.sock');
    expect(client.transport.getPeer()).to.deep.equal(new UNIXAddress('/run/echo.sock'));
    expect(client.transport.getHost()).to.deep.equal(new UNIXAddress(null));
    const start = reactor.seconds();
    client.transport.write('ping');
    await client.waitForBytes(4);
    // The host's conditions with itself apply: one round trip of 10 ms each way.
    expect(reactor.seconds() - start).to.be.closeTo(0.02, 0.001);
    expect(client.text()).to.equal('ping');
    await port.stopListening();
    expect(files.paths()).to.deep.equal([]);
    const why = await refusal(reactor, '/run/echo.sock');
    expect((why.value.cause as { code?: string }).code).to.equal('ENOENT');
  });

  it("paths are per host: another host's same path is its own, and a host cannot reach another's", async () => {
    const other = reactor.host('other');
    await reactor.listenUNIX('/run/app.sock', echoFactory()).whenListening();
    expect(other.unixFiles.stat('/run/app.sock')).to.equal(null);
    expect((await refusal(other, '/run/app.sock')).check(ConnectionRefusedError)).to.equal(
      ConnectionRefusedError,
    );
    await other.listenUNIX('/run/app.sock', echoFactory()).whenListening();
    const client = await connected(other, '/run/app.sock');
    client.transport.write('x');
    await client.waitForBytes(1);
  });

  it('replaces a stale socket file, never a live one, and leaves a plain file alone', async () => {
    const files = reactor.localhost.unixFiles;
    files.makeStaleSocket('/s');
    const stale = await refusal(reactor, '/s');
    expect((stale.value.cause as { code?: string }).code).to.equal('ECONNREFUSED');
    await reactor.listenUNIX('/s', echoFactory()).whenListening();
    const failure = await listenFailure(reactor.listenUNIX('/s', echoFactory()));
    expect(failure).to.be.instanceOf(CannotListenError);
    expect(((failure as Error).cause as { code?: string }).code).to.equal('EADDRINUSE');
    (await connected(reactor, '/s')).transport.write('still');
    files.writeFile('/plain');
    expect(await listenFailure(reactor.listenUNIX('/plain', echoFactory()))).to.be.instanceOf(
      CannotListenError,
    );
    expect(files.stat('/plain')).to.deep.equal({ socket: false, mode: 0o644 });
  });

  it("stopListening leaves alone another server's socket that replaced ours", async () => {
    const files = reactor.localhost.unixFiles;
    const ours = await reactor.listenUNIX('/r', echoFactory()).whenListening();
    const theirs = await reactor.listenUNIX('/other', echoFactory()).whenListening();
    files.rename('/other', '/r');
    await ours.stopListening();
    expect(files.stat('/r')?.socket).to.equal(true);
    const client = await connected(reactor, '/r');
    client.transport.write('theirs');
    await client.waitForBytes(6);
    await theirs.stopListening();
  });

  it('wantPID holds the lock; a stale lock is taken over; checkPID follows the lock', async () => {
    const files = reactor.localhost.unixFiles;
    files.makeStaleSocket('/p');
    files.makeStaleLock('/p');
    expect((await refusal(reactor, '/p', true)).getErrorMessage()).to.include('checkPID');
    const port = await reactor.listenUNIX('/p', echoFactory(), { wantPID: true }).whenListening();
    expect(files.paths()).to.deep.equal(['/p', '/p.lock']);
    expect(
      await listenFailure(reactor.listenUNIX('/p', echoFactory(), { wantPID: true })),
    ).to.be.instanceOf(CannotListenError);
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX('/p', factory, { checkPID: true });
    await (
      await factory.firstBuilt
    ).made;
    await port.stopListening();
    expect(files.paths()).to.deep.equal([]);
    expect((await refusal(reactor, '/p', true)).check(ConnectionRefusedError)).to.equal(
      ConnectionRefusedError,
    );
  });

  it('abstract names have no file; UNIX connections are among the network connections and can be reset', async () => {
    const port = await reactor.listenUNIX('\0sim', echoFactory()).whenListening();
    expect(port.getHost().toString()).to.equal('@sim');
    expect(reactor.localhost.unixFiles.paths()).to.deep.equal([]);
    const client = await connected(reactor, '\0sim');
    expect(reactor.network.connections).to.have.length(1);
    expect(reactor.network.resetConnections()).to.equal(1);
    expect((await client.lost).check(ConnectionLost)).to.equal(ConnectionLost);
  });

  it('a stopped listener makes its path unreachable at once, even before the file went', async () => {
    const port = reactor.listenUNIX('/q', echoFactory());
    await port.whenListening();
    void port.stopListening();
    expect((await refusal(reactor, '/q')).check(ConnectionRefusedError)).to.equal(
      ConnectionRefusedError,
    );
  });
});
