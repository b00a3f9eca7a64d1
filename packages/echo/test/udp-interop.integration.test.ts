// Real peers for UDP: `nc -u` and `socat` against a Torsion DatagramEcho, a
// Twisted (python3-twisted) UDP client against it, and Torsion's UDP client
// (unconnected and connected) against a Twisted DatagramProtocol echo. Over
// loopback, port 0 or the port the server reports; every child is killed if
// it outlives its test. Each tool missing skips its tests with the reason
// (`.ci/run` installs netcat-openbsd, socat and python3-twisted).
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { NodeReactor } from '@torsion/core';
import { RecordingDatagramProtocol } from '@torsion/core/testing';
import { DatagramEcho } from '../src/udp-echo.js';

/** Twisted lives in the system Python, not in a pyenv one. */
const PYTHON = '/usr/bin/python3';

function have(command: string, args: string[]): boolean {
  return spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 }).status === 0;
}

const HAVE_NC = have('sh', ['-c', 'command -v nc']);
const HAVE_SOCAT = have('socat', ['-V']);
const HAVE_TWISTED = have(PYTHON, ['-c', 'import twisted.internet.udp']);

/** A Twisted UDP client: sends argv[2] to 127.0.0.1:argv[1], prints the reply. */
const TWISTED_CLIENT = `
import sys
from twisted.internet import reactor
from twisted.internet.protocol import DatagramProtocol

class Client(DatagramProtocol):
    def startProtocol(self):
        self.transport.write(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
    def datagramReceived(self, data, addr):
        print("reply %s from %s:%d" % (data.decode(), addr[0], addr[1]), flush=True)
        reactor.stop()

reactor.listenUDP(0, Client(), interface="127.0.0.1")
reactor.callLater(5, reactor.stop)
reactor.run()
`;

/** A Twisted UDP echo: prints its port, answers each datagram with "twisted:" + it. */
const TWISTED_ECHO = `
from twisted.internet import reactor
from twisted.internet.protocol import DatagramProtocol

class Echo(DatagramProtocol):
    def datagramReceived(self, data, addr):
        self.transport.write(b"twisted:" + data, addr)

port = reactor.listenUDP(0, Echo(), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.callLater(10, reactor.stop)
reactor.run()
`;

describe('UDP against real peers: nc, socat, Twisted (integration)', function () {
  this.timeout(20_000);
  let reactor: NodeReactor;
  let done: Promise<void>;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    done = reactor.run();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    reactor.stop();
    await done;
  });

  /** Runs a command with `input` on stdin; resolves with stdout once it contains `expected` (then kills it). */
  function runUntil(
    command: string,
    args: string[],
    input: string | null,
    expected: string,
  ): Promise<string> {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${command}: no "${expected}" within 8 s; stdout ${out} stderr ${err}`));
      }, 8000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(expected)) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve(out);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      if (input !== null) child.stdin.end(input);
    });
  }

  async function echoPort(): Promise<number> {
    const port = reactor.listenUDP(0, new DatagramEcho(), { interface: '127.0.0.1' });
    await port.whenListening();
    return port.getHost().port;
  }

  it('nc -u gets its datagram back from a Torsion UDP echo', async function () {
    if (!HAVE_NC) {
      console.warn('    (skipped: `nc` is not installed; .ci/run installs netcat-openbsd)');
      this.skip();
    }
    const port = await echoPort();
    // -w: quit a few seconds after stdin closed; the reply arrives long before.
    const out = await runUntil(
      'nc',
      ['-u', '-w', '3', '127.0.0.1', String(port)],
      'hello from nc',
      'hello from nc',
    );
    expect(out).to.equal('hello from nc');
  });

  it('socat gets its datagram back from a Torsion UDP echo', async function () {
    if (!HAVE_SOCAT) {
      console.warn('    (skipped: `socat` is not installed; .ci/run installs it)');
      this.skip();
    }
    const port = await echoPort();
    const out = await runUntil(
      'socat',
      ['-t', '3', '-', `UDP:127.0.0.1:${String(port)}`],
      'hello from socat\n',
      'hello from socat\n',
    );
    expect(out).to.equal('hello from socat\n');
  });

  it("a Twisted DatagramProtocol client gets its reply, from the echo's address", async function () {
    if (!HAVE_TWISTED) {
      console.warn(`    (skipped: ${PYTHON} has no Twisted; .ci/run installs python3-twisted)`);
      this.skip();
    }
    const port = await echoPort();
    const out = await runUntil(
      PYTHON,
      ['-c', TWISTED_CLIENT, String(port), 'hi twisted'],
      null,
      '\n',
    );
    expect(out.trim()).to.equal(`reply hi twisted from 127.0.0.1:${String(port)}`);
  });

  async function twistedEcho(): Promise<number> {
    const child = spawn(PYTHON, ['-c', TWISTED_ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the Twisted echo did not report its port'));
      }, 8000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(Number(out.trim()));
        }
      });
    });
  }

  it('a Torsion client talks to a Twisted UDP echo, unconnected then connected', async function () {
    if (!HAVE_TWISTED) {
      console.warn(`    (skipped: ${PYTHON} has no Twisted; .ci/run installs python3-twisted)`);
      this.skip();
    }
    const twistedPort = await twistedEcho();
    const client = new RecordingDatagramProtocol();
    reactor.listenUDP(0, client, { interface: '127.0.0.1' });
    await client.started;
    client.transport.write('unconnected', { host: '127.0.0.1', port: twistedPort });
    const [first] = await client.waitForDatagrams(1);
    expect(first?.data.toString()).to.equal('twisted:unconnected');
    expect(first?.address.port).to.equal(twistedPort);
    client.transport.connect('127.0.0.1', twistedPort);
    client.transport.write('connected');
    await client.waitForDatagrams(2);
    expect(client.texts()).to.deep.equal(['twisted:unconnected', 'twisted:connected']);
  });
});
