// runServices in-process, on a NodeReactor without signal handlers, talking to
// the services over loopback. Logging goes to a string sink per test.
import { NodeReactor, setLogObservers, type IListeningPort } from '@torsion/core';
import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runServices } from '../src/run.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

interface Started {
  code: Promise<number>;
  ports: readonly IListeningPort[];
  reactor: NodeReactor;
  stdout: Sink;
  stderr: Sink;
}

async function start(argv: string[]): Promise<Started> {
  const reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
  const stdout = new Sink();
  const stderr = new Sink();
  let listening: (ports: readonly IListeningPort[]) => void = () => {};
  const ready = new Promise<readonly IListeningPort[]>((resolve) => (listening = resolve));
  const code = runServices(argv, {
    stdout,
    stderr,
    cwd: fixtures,
    reactor,
    // The endpoints these tests serve have IP addresses.
    onListening: (ports) => listening(ports as readonly IListeningPort[]),
  });
  const ports = await Promise.race([
    ready,
    code.then((c) => {
      throw new Error(`exited ${String(c)} before listening: ${stderr.text}`);
    }),
  ]);
  return { code, ports, reactor, stdout, stderr };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const reactor = new NodeReactor({ installSignalHandlers: false });
  const code = await runServices(argv, { stdout, stderr, cwd: fixtures, reactor });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function exchange(port: number, send: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.end(send);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(socket, 'close');
  return received;
}

describe('runServices', function () {
  this.timeout(15_000);
  afterEach(() => setLogObservers([]));

  it('serves echo on the endpoint given and exits 0 once the reactor stops', async () => {
    const s = await start(['echo', '--listen', 'tcp:0:interface=127.0.0.1']);
    expect(s.ports).to.have.length(1);
    expect(await exchange(s.ports[0]!.getHost().port, 'ping')).to.equal('ping');
    expect(s.stderr.text).to.match(/info: echo listening on 127\.0\.0\.1:\d+ plugin=echo/);
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it("serves several plugins in one process, separated by '+'", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'torsion-runner-'));
    try {
      const users = join(dir, 'users.json');
      await writeFile(users, JSON.stringify({ alice: 'Alice is in the lab' }));
      const s = await start([
        'echo',
        '-l',
        'tcp:0:interface=127.0.0.1',
        '--lines',
        '+',
        'finger',
        '--users',
        users,
        '--listen',
        'tcp:0:interface=127.0.0.1',
      ]);
      const [echoPort, fingerPort] = s.ports.map((p) => p.getHost().port);
      expect(await exchange(echoPort!, 'one\r\ntwo')).to.equal('one\r\n');
      expect(await exchange(fingerPort!, 'alice\r\n')).to.include('Alice is in the lab');
      s.reactor.stop();
      expect(await s.code).to.equal(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs a third-party plugin module with its own options', async () => {
    const s = await start(['./hello-plugin.mjs', '--greeting', 'bonjour']);
    expect(await exchange(s.ports[0]!.getHost().port, '')).to.equal('bonjour\r\n');
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it("serves the UDP echo of `torsion echo --listen udp:…` with the plugin's datagram protocol", async () => {
    const s = await start(['echo', '--listen', 'udp:0:interface=127.0.0.1']);
    const client = createSocket('udp4');
    try {
      const reply = once(client, 'message');
      client.send('datagram', s.ports[0]!.getHost().port, '127.0.0.1');
      const [message] = (await reply) as [Buffer];
      expect(message.toString()).to.equal('datagram');
      expect(s.stderr.text).to.match(
        /info: echo listening on 127\.0\.0\.1:\d+ \(UDP\) plugin=echo/,
      );
    } finally {
      client.close();
    }
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('accepts an endpoint type a plugin module registers when it is imported', async () => {
    const s = await start(['./lo-endpoint-plugin.mjs', '--listen', 'lo:0']);
    expect(s.ports[0]!.getHost().host).to.equal('127.0.0.1');
    expect(await exchange(s.ports[0]!.getHost().port, '')).to.equal('hi\r\n');
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('logs JSON lines with --log-format json', async () => {
    const s = await start(['--log-format', 'json', 'echo', '-l', 'tcp:0:interface=127.0.0.1']);
    s.reactor.stop();
    await s.code;
    const events = s.stderr.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { namespace: string; message: string });
    const runner = events.filter((e) => e.namespace === 'torsion.runner');
    expect(runner).to.have.length(1);
    expect(runner[0]?.message).to.match(/^echo listening on 127\.0\.0\.1:\d+$/);
    expect(events.map((e) => e.namespace)).to.include('torsion.reactor');
  });

  it('exits 1 with one clear line when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const port = (blocker.address() as AddressInfo).port;
      const result = await run(['echo', '--listen', `tcp:${String(port)}:interface=127.0.0.1`]);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(
        new RegExp(
          `^torsion: echo: cannot listen on tcp:${String(port)}:interface=127\\.0\\.0\\.1: Could not listen`,
          'm',
        ),
      );
    } finally {
      blocker.close();
    }
  });

  it('exits 1 when a plugin rejects its options', async () => {
    const result = await run([
      'finger',
      '--idle-timeout',
      'soon',
      '-l',
      'tcp:0:interface=127.0.0.1',
    ]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^torsion: finger: .*idle-timeout/m);
  });

  const usage: [string[], RegExp][] = [
    [['echo', '--colour'], /^torsion: echo: Unknown option '--colour'/],
    [['--colour', 'echo'], /^torsion: Unknown option '--colour'/],
    [
      ['echo', '--listen', 'sctp:7'],
      /unknown endpoint type 'sctp' \(known: .*tcp, tcp6, tls, udp, unix/,
    ],
    [
      ['finger', '--listen', 'udp:0'],
      /^torsion: plugin 'finger' cannot serve udp:0: it serves streams only \(it has no makeDatagramProtocol\)/,
    ],
    [['echo', '--log-format', 'xml'], /--log-format must be 'text' or 'json', got 'xml'/],
    [['--reactor', '', 'echo'], /--reactor needs a name/],
    [['--listen', 'tcp:1', 'echo'], /--listen goes after the plugin name/],
    [[], /name a plugin to run/],
    [['echo', '+'], /name a plugin to run/],
    [['echo', '-l', 'tcp:8007:interface='], /interface= needs an address/],
    [['echo', '-l', 'tcp:8007:interface=::1'], /IPv6 address needs its colons escaped/],
  ];
  for (const [argv, message] of usage) {
    it(`exits 2 for \`torsion ${argv.join(' ')}\``, async () => {
      const result = await run(argv);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(message);
    });
  }

  it('exits 1 naming the built-ins for an unknown plugin', async () => {
    const result = await run(['gopher']);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/torsion: no plugin 'gopher': not a built-in \(echo, finger\)/);
  });

  it('--help lists the plugins; <plugin> --help lists its options', async () => {
    const general = await run(['--help']);
    expect(general.code).to.equal(0);
    expect(general.stdout).to.match(/^ {2}echo {7}Echo/m);
    expect(general.stdout).to.match(/^ {2}finger /m);
    const finger = await run(['finger', '--help']);
    expect(finger.code).to.equal(0);
    expect(finger.stdout).to.include('--users FILE');
    expect(finger.stdout).to.include('default: tcp:7979');
  });

  // Issue #10: `--idle-timeout SECONDS` pushed its description out of the column.
  it('<plugin> --help starts every option description in one column', async () => {
    const finger = await run(['finger', '--help']);
    const options = finger.stdout.split('Options:\n')[1]?.trimEnd().split('\n') ?? [];
    expect(options).to.have.length.above(5);
    const columns = new Set(
      options.map((line) => /^ +\S.*?\S {2,}(?=\S)/.exec(line)?.[0].length ?? -1),
    );
    expect([...columns])
      .to.have.length(1)
      .and.not.include(-1);
  });

  it('--help shows an IPv6 interface escaped and quoted for the shell', async () => {
    const general = await run(['--help']);
    expect(general.stdout).to.include("--listen 'tcp:8007:interface=\\:\\:1'");
  });

  it('--version prints the version', async () => {
    const result = await run(['--version']);
    expect(result).to.deep.equal({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });
});
