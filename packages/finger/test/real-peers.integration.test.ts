// Real peers: Debian's `finger` client against our server (it only talks to
// port 79), and our client against Debian's `in.fingerd` behind socat.
// Needs the Debian packages finger, fingerd and socat; skips loudly without them.
import { expect } from 'chai';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { NodeReactor } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { finger } from '../src/finger-client.js';
import { FingerFactory } from '../src/finger-server.js';

const FINGER = '/usr/bin/finger';
const FINGERD = '/usr/sbin/in.fingerd';
const SOCAT = '/usr/bin/socat';

function skip(ctx: Mocha.Context, why: string): void {
  process.stderr.write(`\n  SKIPPED: ${why}\n`);
  ctx.skip();
}

/** Resolves true if 127.0.0.1:`port` can be bound now (and releases it). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

/** Resolves true once 127.0.0.1:`port` accepts a connection, false after ~5 seconds. */
async function waitForListener(port: number, child: ChildProcess): Promise<boolean> {
  for (let attempt = 0; attempt < 100 && child.exitCode === null; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function runFinger(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(FINGER, [...args], { timeout: 10_000 }, (error, stdout) => {
      // It passes the server's CRLF through when not writing to a terminal.
      resolve({
        code: error === null ? 0 : Number(error.code ?? 1),
        stdout: stdout.replace(/\r\n/g, '\n'),
      });
    });
  });
}

describe('real finger peers (integration)', function () {
  this.timeout(30_000);
  let reactor: NodeReactor;
  let done: Promise<void>;
  let socat: ChildProcess | null = null;
  let logs: LogCapture;

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    if (socat !== null) {
      const child = socat;
      socat = null;
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    reactor.stop();
    await done;
  });

  it("answers Debian's finger client, plain and with -l", async function () {
    if (!existsSync(FINGER)) skip(this, `${FINGER} is missing: apt-get install finger`);
    if (!(await canBind(79))) skip(this, 'cannot bind 127.0.0.1:79 (needs root and a free port)');
    const verbose: boolean[] = [];
    const users = {
      getUser: (name: string, v: boolean) => {
        verbose.push(v);
        return Promise.resolve(name === 'alice' ? 'Alice\x1b[2J\nOffice 12' : null);
      },
      listUsers: () => Promise.resolve(['alice']),
    };
    const factory = new FingerFactory({ users, allowList: true, reactor });
    await reactor.listenTCP(79, factory, { interface: '127.0.0.1' }).whenListening();

    const plain = await runFinger(['alice@127.0.0.1']);
    expect(plain.code).to.equal(0);
    // The ESC reaches the client as a visible U+FFFD, which the classic
    // client prints as it likes (UTF-8, or M- notation in the C locale).
    expect(plain.stdout).to.contain('Login: alice\nAlice');
    expect(plain.stdout).to.contain('[2J\nOffice 12\n');
    expect(plain.stdout).to.not.contain('\x1b');
    const long = await runFinger(['-l', 'alice@127.0.0.1']);
    expect(long.stdout).to.contain('Login: alice');
    expect(verbose).to.deep.equal([false, true]);
    expect((await runFinger(['@127.0.0.1'])).stdout).to.contain('alice\n');
    expect((await runFinger(['bob@127.0.0.1'])).stdout).to.contain('Login: bob\nNo such user\n');
  });

  it("reads a reply from Debian's in.fingerd", async function () {
    for (const [path, pkg] of [
      [FINGERD, 'fingerd'],
      [SOCAT, 'socat'],
      [FINGER, 'finger'],
    ] as const) {
      if (!existsSync(path)) skip(this, `${path} is missing: apt-get install ${pkg}`);
    }
    let port = 0;
    for (let attempt = 0; attempt < 3 && socat === null; attempt++) {
      port = await freePort();
      const child = spawn(
        SOCAT,
        [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `EXEC:${FINGERD}`],
        { stdio: 'ignore' },
      );
      socat = child;
      // Another process may have taken the port between our probe and socat's bind.
      if (!(await waitForListener(port, child))) {
        child.kill('SIGTERM');
        socat = null;
      }
    }
    expect(socat, 'socat did not start listening').to.not.equal(null);

    const reply = await finger('root', { host: '127.0.0.1', port, reactor, timeout: 10 });
    expect(reply).to.match(/^Login: root\s+Name: /);
    expect(reply).to.contain('Directory: /root');
    expect(reply).to.not.contain('\r');
  });
});
