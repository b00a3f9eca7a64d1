// Torsion's UNIX sockets against real peers: socat (UNIX-CONNECT and
// UNIX-LISTEN) and Twisted's own listenUNIX/connectUNIX (python3-twisted), in
// both directions. Each test skips, saying why, when its tool is missing.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeReactor } from '../src/node-reactor.js';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '../src/testing/index.js';

const PYTHON = '/usr/bin/python3';
const HAS_SOCAT = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;
const HAS_TWISTED =
  spawnSync(PYTHON, ['-c', 'import twisted.internet.unix'], { encoding: 'utf8' }).status === 0;

/** A Twisted echo server on argv[1]; prints "ready" once listening. */
const TWISTED_SERVER = `
import sys
from twisted.internet import reactor, protocol
class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)
f = protocol.Factory.forProtocol(Echo)
reactor.listenUNIX(sys.argv[1], f)
reactor.callWhenRunning(lambda: (print("ready", flush=True)))
reactor.callLater(20, reactor.stop)
reactor.run()
`;

/** A Twisted client: sends argv[2] to argv[1], prints what comes back, exits. */
const TWISTED_CLIENT = `
import sys
from twisted.internet import reactor, protocol
class Client(protocol.Protocol):
    got = b""
    def connectionMade(self):
        self.transport.write(sys.argv[2].encode())
    def dataReceived(self, data):
        self.got += data
        if len(self.got) >= len(sys.argv[2]):
            print(self.got.decode(), flush=True)
            self.transport.loseConnection()
    def connectionLost(self, reason):
        reactor.stop()
class F(protocol.ClientFactory):
    protocol = Client
    def clientConnectionFailed(self, c, reason):
        print("failed", reason.getErrorMessage(), flush=True)
        reactor.stop()
reactor.connectUNIX(sys.argv[1], F())
reactor.callLater(20, reactor.stop)
reactor.run()
`;

/** Runs `command` and resolves with its stdout once it exits. */
function output(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      resolve(out);
    });
  });
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: not reached`);
}

describe('UNIX sockets with real peers (integration)', function () {
  this.timeout(30000);
  let reactor: NodeReactor;
  let done: Promise<void>;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    dir = mkdtempSync(join(tmpdir(), 'torsion-unix-interop-'));
  });

  afterEach(async () => {
    for (const c of children.splice(0)) c.kill();
    reactor.stop();
    await done;
    rmSync(dir, { recursive: true, force: true });
  });

  async function echoServer(path: string): Promise<void> {
    await reactor
      .listenUNIX(path, new RecordingFactory(() => new EchoingProtocol()))
      .whenListening();
  }

  async function roundTrip(path: string, text: string): Promise<string> {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectUNIX(path, factory);
    const client = await factory.firstBuilt;
    await client.made;
    client.transport.write(text);
    await client.waitForBytes(Buffer.byteLength(text));
    client.transport.loseConnection();
    return client.text();
  }

  it('socat UNIX-CONNECT talks to a Torsion server', async function () {
    if (!HAS_SOCAT) {
      console.warn('    (skipped: `socat` is not installed; .ci/run installs it)');
      this.skip();
    }
    const path = join(dir, 'torsion.sock');
    await echoServer(path);
    const child = spawn('socat', ['-t', '2', '-', `UNIX-CONNECT:${path}`]);
    children.push(child);
    const out = output(child);
    child.stdin.end('hello from socat\n');
    expect(await out).to.equal('hello from socat\n');
  });

  it('a Torsion client talks to socat UNIX-LISTEN', async function () {
    if (!HAS_SOCAT) {
      console.warn('    (skipped: `socat` is not installed; .ci/run installs it)');
      this.skip();
    }
    const path = join(dir, 'socat.sock');
    const child = spawn('socat', [`UNIX-LISTEN:${path}`, 'EXEC:/bin/cat']);
    children.push(child);
    await until(() => existsSync(path), 'socat listening');
    expect(await roundTrip(path, 'hello socat')).to.equal('hello socat');
  });

  it("Twisted's connectUNIX talks to a Torsion server", async function () {
    if (!HAS_TWISTED) {
      console.warn('    (skipped: python3-twisted is not installed; .ci/run installs it)');
      this.skip();
    }
    const path = join(dir, 'torsion.sock');
    await echoServer(path);
    const child = spawn(PYTHON, ['-c', TWISTED_CLIENT, path, 'hello from twisted']);
    children.push(child);
    expect((await output(child)).trim()).to.equal('hello from twisted');
  });

  it("a Torsion client talks to Twisted's listenUNIX", async function () {
    if (!HAS_TWISTED) {
      console.warn('    (skipped: python3-twisted is not installed; .ci/run installs it)');
      this.skip();
    }
    const path = join(dir, 'twisted.sock');
    const child = spawn(PYTHON, ['-c', TWISTED_SERVER, path]);
    children.push(child);
    let ready = false;
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) ready = true;
    });
    await until(() => ready && existsSync(path), 'Twisted listening');
    expect(await roundTrip(path, 'hello twisted')).to.equal('hello twisted');
  });
});
