// A real HAProxy (Debian package `haproxy`) in front of Torsion servers on
// `haproxy:` endpoints: `send-proxy` (v1) and `send-proxy-v2` deliver the
// client's address to the protocol, and HAProxy's health checks (`check`
// with `check-send-proxy`) are accepted: a v2 check sends a LOCAL header, a
// v1 check a TCP4 header with the check connection's own addresses. First a
// server in this process (to see the headers themselves), then the real
// `torsion` bin (`torsion echo --listen haproxy:tcp:…` and a plugin that
// reports the peer it sees). The checks run every 100 ms and the tests wait
// for HAProxy's stats socket to report them passed, bounded. Skips with the
// reason when haproxy is missing (`.ci/run` installs it); every HAProxy and
// torsion process is killed in the after hooks.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Factory, NodeReactor, Protocol, serverFromString, type IAddress } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { expect } from 'chai';
import '../src/endpoint.js';
import type { ProxyHeader } from '../src/header.js';
import { HAProxyProtocol } from '../src/wrapping-factory.js';
import {
  globalSection,
  HAVE_HAPROXY,
  SKIP_REASON,
  sleep,
  startHAProxy,
  type RunningHAProxy,
} from './haproxy-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');

/** Tells the client who it is talking to, then echoes; keeps the header it was given. */
class Reporter extends Protocol {
  static headers: (ProxyHeader | null)[] = [];
  override connectionMade(): void {
    const transport = this.transport as unknown as HAProxyProtocol;
    Reporter.headers.push(transport.proxyHeader);
    this.transport.write(
      `peer=${this.transport.getPeer().toString()} host=${this.transport.getHost().toString()}\n`,
    );
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/**
 * A health check that passes only if the server read the header and
 * answered: it sends `check` and expects it back, so a connection Torsion
 * closed for a bad header fails the check (a connect-only check would not).
 */
const ECHO_CHECK = [
  '  option tcp-check',
  '  tcp-check send check',
  '  tcp-check expect string check',
];

/** `backend NAME` sending `proxy` (send-proxy or send-proxy-v2) to 127.0.0.1:PORT, checked every 100 ms. */
function backend(name: string, port: number, proxy: 'send-proxy' | 'send-proxy-v2'): string[] {
  return [
    `backend ${name}`,
    ...ECHO_CHECK,
    `  server torsion 127.0.0.1:${String(port)} ${proxy} check check-send-proxy inter 100ms fall 3 rise 1`,
  ];
}

function frontend(name: string, port: number, backendName: string): string[] {
  return [
    `frontend ${name}`,
    `  bind 127.0.0.1:${String(port)}`,
    `  default_backend ${backendName}`,
  ];
}

/**
 * Connects from 127.0.0.2 (told apart from HAProxy's own 127.0.0.1), sends
 * `payload`, reads until the reply ends with it; the reply as latin1 text.
 */
function ask(
  port: number,
  payload: Buffer = Buffer.from('ping'),
): Promise<{ reply: string; local: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const received = () => Buffer.concat(chunks);
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no reply through HAProxy on port ${String(port)}; got ${String(received().length)} bytes: ${JSON.stringify(received().subarray(0, 200).toString('latin1'))}`,
        ),
      );
    }, 5000);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = received();
      if (
        all.length >= payload.length &&
        all.subarray(all.length - payload.length).equals(payload)
      ) {
        clearTimeout(timer);
        resolve({
          reply: all.toString('latin1'),
          local: `${socket.localAddress ?? ''}:${String(socket.localPort)}`,
        });
        socket.end();
      }
    });
  });
}

describe('behind a real HAProxy (integration)', function () {
  this.timeout(30_000);
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;
  let haproxy: RunningHAProxy | null = null;
  let torsion = 0;

  before(async function () {
    if (!HAVE_HAPROXY) {
      console.warn(`    ${SKIP_REASON}`);
      this.skip();
    }
    logs = LogCapture.start();
    Reporter.headers = [];
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    const listening = await serverFromString(reactor, 'haproxy:tcp:0:interface=127.0.0.1').listen(
      Factory.forProtocol(Reporter),
    );
    torsion = (listening.getHost() as IAddress & { port: number }).port;
    haproxy = await startHAProxy(2, ([v1 = 0, v2 = 0], statsSocket) =>
      [
        ...globalSection(statsSocket),
        ...frontend('fe_v1', v1, 'be_v1'),
        ...frontend('fe_v2', v2, 'be_v2'),
        ...backend('be_v1', torsion, 'send-proxy'),
        ...backend('be_v2', torsion, 'send-proxy-v2'),
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await haproxy?.stop();
    haproxy = null;
    if (HAVE_HAPROXY) {
      reactor.stop();
      await done;
      logs.stop();
    }
  });

  for (const [i, version] of (['v1', 'v2'] as const).entries()) {
    it(`send-proxy${version === 'v2' ? '-v2' : ''}: the protocol sees the client's address and the frontend's`, async () => {
      const port = haproxy?.ports[i] ?? 0;
      const { reply, local } = await ask(port);
      expect(reply).to.equal(`peer=${local} host=127.0.0.1:${String(port)}\nping`);
      expect(local.startsWith('127.0.0.2:')).to.equal(true);
      const header = Reporter.headers
        .filter((h) => String(h?.source).startsWith('127.0.0.2:'))
        .at(-1);
      expect(header?.version).to.equal(version === 'v1' ? 1 : 2);
    });
  }

  it('health checks (check, check-send-proxy): v2 LOCAL and v1 headers are accepted, the servers UP', async () => {
    await haproxy?.waitUntilUp(['be_v1/torsion', 'be_v2/torsion']);
    const stats = (await haproxy?.showStat()) ?? [];
    for (const name of ['be_v1', 'be_v2']) {
      const row = stats.find((r) => r.pxname === name && r.svname === 'torsion');
      expect(row?.check_status, name).to.equal('L7OK');
    }
    // A v2 check says LOCAL: the protocol keeps the connection's own addresses.
    const local = Reporter.headers.find((h) => h?.command === 'LOCAL');
    expect(local).to.include({ version: 2, source: null, destination: null });
    // A v1 check has no LOCAL: HAProxy sends its check connection's own addresses.
    const v1Check = Reporter.headers.find(
      (h) => h?.version === 1 && String(h.source).startsWith('127.0.0.1:'),
    );
    expect(String(v1Check?.destination)).to.equal(`127.0.0.1:${String(torsion)}`);
    expect(haproxy?.output()).to.match(/Health check for server be_v2\/torsion succeeded/);
    expect(logs.messages('warn').filter((m) => m.includes('closed a connection'))).to.deep.equal(
      [],
    );
  });
});

/** The `torsion` bin serving `args`; resolves with the port of each plugin once all listen. */
async function startTorsion(
  args: string[],
  plugins: readonly string[],
): Promise<{ child: ChildProcess; ports: Map<string, number>; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const ports = new Map<string, number>();
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`torsion did not start: ${stderr}`)), 15_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        for (const m of stderr.matchAll(/(\w+) listening on 127\.0\.0\.1:(\d+)/g)) {
          ports.set(m[1] ?? '', Number(m[2]));
        }
        if (plugins.every((name) => ports.has(name))) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`torsion exited early with ${String(code)}: ${stderr}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, ports, stderr: () => stderr };
}

describe('the torsion bin behind a real HAProxy (integration)', function () {
  this.timeout(40_000);
  let haproxy: RunningHAProxy | null = null;
  let torsion: Awaited<ReturnType<typeof startTorsion>> | null = null;

  before(async function () {
    if (!HAVE_HAPROXY) {
      console.warn(`    ${SKIP_REASON}`);
      this.skip();
    }
    if (!existsSync(bin)) throw new Error(`${bin} is not built: run \`npx tsc -b\` first`);
    const plugin = join(here, 'fixtures/peer-plugin.mjs');
    torsion = await startTorsion(
      [
        'echo',
        '--listen',
        'haproxy:tcp:0:interface=127.0.0.1',
        '+',
        plugin,
        '--listen',
        'haproxy:tcp:0:interface=127.0.0.1',
      ],
      ['echo', 'peer'],
    );
    const echo = torsion.ports.get('echo') ?? 0;
    const peer = torsion.ports.get('peer') ?? 0;
    haproxy = await startHAProxy(4, ([e1 = 0, e2 = 0, p1 = 0, p2 = 0], statsSocket) =>
      [
        ...globalSection(statsSocket),
        ...frontend('fe_echo_v1', e1, 'echo_v1'),
        ...frontend('fe_echo_v2', e2, 'echo_v2'),
        ...frontend('fe_peer_v1', p1, 'peer_v1'),
        ...frontend('fe_peer_v2', p2, 'peer_v2'),
        ...backend('echo_v1', echo, 'send-proxy'),
        ...backend('echo_v2', echo, 'send-proxy-v2'),
        ...backend('peer_v1', peer, 'send-proxy'),
        ...backend('peer_v2', peer, 'send-proxy-v2'),
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await haproxy?.stop();
    haproxy = null;
    const child = torsion?.child;
    torsion = null;
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  });

  it("HAProxy's health checks (v1, and v2 LOCAL) pass against the bin", async () => {
    await haproxy?.waitUntilUp([
      'echo_v1/torsion',
      'echo_v2/torsion',
      'peer_v1/torsion',
      'peer_v2/torsion',
    ]);
    expect(torsion?.stderr()).to.not.match(/closed a connection/);
  });

  for (const [i, proxy] of (['send-proxy', 'send-proxy-v2'] as const).entries()) {
    it(`${proxy}: torsion echo echoes byte-exact through HAProxy`, async () => {
      const payload = Buffer.from(Array.from({ length: 64 * 1024 }, (_, n) => (n * 7) % 256));
      const { reply } = await ask(haproxy?.ports[i] ?? 0, payload);
      expect(Buffer.from(reply, 'latin1').equals(payload)).to.equal(true);
    });

    it(`${proxy}: the peer Torsion reports is the client's address, the host HAProxy's frontend`, async () => {
      const port = haproxy?.ports[2 + i] ?? 0;
      const { reply, local } = await ask(port);
      expect(local.startsWith('127.0.0.2:')).to.equal(true);
      expect(reply).to.equal(`peer=${local} host=127.0.0.1:${String(port)}\nping`);
    });
  }

  it('a client that goes around HAProxy without a header is closed, with the reason logged', async () => {
    const port = torsion?.ports.get('peer') ?? 0;
    const closed = await new Promise<string>((resolveClosed, reject) => {
      let text = '';
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('the connection was not closed'));
      }, 5000);
      socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolveClosed(text);
      });
    });
    expect(closed).to.equal('');
    for (
      let i = 0;
      i < 40 && !(torsion?.stderr() ?? '').includes('does not start with a PROXY header');
      i++
    ) {
      await sleep(50);
    }
    expect(torsion?.stderr()).to.match(
      /closed a connection from 127\.0\.0\.1:\d+: the connection does not start with a PROXY header/,
    );
  });
});
