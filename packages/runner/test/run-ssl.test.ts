// runServices with ssl: endpoints, in-process: which options reach
// listenSSL, SIGHUP's reload reaching setTLSOptions, and the start-up
// failures. The reactor is a NodeReactor whose listenSSL records its
// arguments and listens in plaintext, so these tests need no TLS engine;
// test/ssl.integration.test.ts serves real TLS.
import {
  NodeReactor,
  setLogObservers,
  type IListeningPort,
  type IProtocolFactory,
  type ISSLListeningPort,
  type ListenSSLOptions,
  type ServerTLSOptions,
} from '@torsion/core';
import { writeTestCertificates, type TestCertificateFiles } from '@torsion/core/testing';
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServices } from '../src/run.js';

class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

interface ListenSSLCall {
  port: number;
  options: ServerTLSOptions;
  listenOptions: ListenSSLOptions | undefined;
  /** What setTLSOptions was given since. */
  reloads: ServerTLSOptions[];
}

/** A NodeReactor whose listenSSL is recorded (and listens in plaintext). */
function recordingReactor(): { reactor: NodeReactor; calls: ListenSSLCall[] } {
  const reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
  const calls: ListenSSLCall[] = [];
  const listenSSL = (
    port: number,
    factory: IProtocolFactory,
    options: ServerTLSOptions,
    listenOptions?: ListenSSLOptions,
  ): ISSLListeningPort => {
    const call: ListenSSLCall = { port, options, listenOptions, reloads: [] };
    calls.push(call);
    const listening = reactor.listenTCP(port, factory, listenOptions);
    return Object.assign(listening, {
      setTLSOptions: (next: ServerTLSOptions) => void call.reloads.push(next),
    });
  };
  Object.assign(reactor, { listenSSL });
  return { reactor, calls };
}

describe('runServices with ssl: endpoints', function () {
  this.timeout(15_000);
  let dir = '';
  let files: TestCertificateFiles;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-runner-ssl-'));
    files = writeTestCertificates(dir);
    copyFileSync(files.serverKey, join(dir, 'live.key'));
    copyFileSync(files.serverCert, join(dir, 'live.pem'));
  });
  afterEach(() => {
    setLogObservers([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens with listenSSL, the options read from the files, and reloads them on SIGHUP', async () => {
    const { reactor, calls } = recordingReactor();
    const stdout = new Sink();
    const stderr = new Sink();
    let listening: (ports: readonly IListeningPort[]) => void = () => {};
    const ready = new Promise<readonly IListeningPort[]>((resolve) => (listening = resolve));
    const hupListeners = process.listenerCount('SIGHUP');
    const code = runServices(
      [
        'echo',
        '--listen',
        'ssl:0:interface=127.0.0.1:privateKey=live.key:certKey=live.pem:backlog=9:alpn=h2',
      ],
      {
        stdout,
        stderr,
        cwd: dir,
        reactor,
        onListening: (ports) => listening(ports as readonly IListeningPort[]),
      },
    );
    expect(await ready).to.have.length(1);
    expect(calls).to.have.length(1);
    const [call] = calls;
    expect(call?.port).to.equal(0);
    expect(call?.listenOptions).to.deep.equal({ interface: '127.0.0.1', backlog: 9 });
    expect(call?.options.identity.certificate.subject).to.include('CN=localhost');
    expect(call?.options.alpnProtocols).to.deep.equal(['h2']);
    expect(stderr.text).to.match(
      /info: echo listening on 127\.0\.0\.1:\d+ over TLS \(.*CN=localhost.*SHA-256 [0-9A-F:]+\) plugin=echo/,
    );
    expect(process.listenerCount('SIGHUP')).to.equal(hupListeners + 1);

    copyFileSync(files.sniKey, join(dir, 'live.key'));
    copyFileSync(files.sniCert, join(dir, 'live.pem'));
    process.emit('SIGHUP', 'SIGHUP');
    expect(call?.reloads).to.have.length(1);
    expect(call?.reloads[0]?.identity.certificate.subject).to.include('CN=sni.example');
    expect(stderr.text).to.match(/info: Received SIGHUP, reloading certificates/);
    expect(stderr.text).to.match(/info: echo: reloaded the certificate of ssl:0:.*CN=sni\.example/);

    rmSync(join(dir, 'live.key'));
    process.emit('SIGHUP', 'SIGHUP');
    expect(call?.reloads).to.have.length(1);
    expect(stderr.text).to.match(
      /error: echo: cannot reload the certificate of ssl:0:.*ENOENT.*live\.key.*; still serving the previous one \(.*CN=sni\.example/,
    );

    reactor.stop();
    expect(await code).to.equal(0);
    expect(process.listenerCount('SIGHUP')).to.equal(hupListeners);
  });

  it('leaves SIGHUP alone when no endpoint is ssl:', async () => {
    const { reactor } = recordingReactor();
    const hupListeners = process.listenerCount('SIGHUP');
    let listening: () => void = () => {};
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const code = runServices(['echo', '--listen', 'tcp:0:interface=127.0.0.1'], {
      stdout: new Sink(),
      stderr: new Sink(),
      cwd: dir,
      reactor,
      onListening: () => listening(),
    });
    await ready;
    expect(process.listenerCount('SIGHUP')).to.equal(hupListeners);
    reactor.stop();
    expect(await code).to.equal(0);
  });

  async function run(
    argv: string[],
    reactor: NodeReactor = recordingReactor().reactor,
  ): Promise<{ code: number; stderr: string }> {
    const stderr = new Sink();
    const code = await runServices(argv, { stdout: new Sink(), stderr, cwd: dir, reactor });
    return { code, stderr: stderr.text };
  }

  it('exits 2 naming the reactor and the endpoint when the reactor cannot listenSSL', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    // Hides a listenSSL NodeReactor may have: this stands for any reactor without TLS.
    Object.assign(reactor, { listenSSL: undefined });
    const result = await run(
      [
        'echo',
        '-l',
        'tcp:0:interface=127.0.0.1',
        '-l',
        'ssl:0:privateKey=live.key:certKey=live.pem',
      ],
      reactor,
    );
    expect(result).to.deep.equal({
      code: 2,
      stderr:
        'torsion: reactor NodeReactor cannot serve ssl:0:privateKey=live.key:certKey=live.pem: it does not implement listenSSL (IReactorSSL)\n',
    });
  });

  it('exits 1 naming the plugin, the endpoint and the file when a file cannot be used, before anything listens', async () => {
    const { reactor, calls } = recordingReactor();
    const listenTCP = reactor.listenTCP.bind(reactor);
    let tcpListens = 0;
    Object.assign(reactor, {
      listenTCP: (...args: Parameters<NodeReactor['listenTCP']>) => {
        tcpListens++;
        return listenTCP(...args);
      },
    });
    const result = await run(
      [
        'echo',
        '-l',
        'tcp:0:interface=127.0.0.1',
        '+',
        'echo',
        '-l',
        'ssl:0:privateKey=sni.key:certKey=live.pem',
      ],
      reactor,
    );
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(
      /^torsion: echo: ssl:0:privateKey=sni\.key:certKey=live\.pem: cannot use the certificate files: the private key \(.*sni\.key\) does not belong to the certificate \(.*live\.pem\)\n$/,
    );
    expect(calls).to.deep.equal([]);
    expect(tcpListens).to.equal(0);
  });

  const usage: [string[], RegExp][] = [
    [
      ['echo', '-l', 'ssl:8443'],
      /^torsion: endpoint 'ssl:8443': an ssl endpoint needs privateKey=FILE/,
    ],
    [['echo', '-l', 'ssl:8443:privateKey=k.pem:clientCertificates=require'], /needs caCerts=FILE/],
  ];
  for (const [argv, message] of usage) {
    it(`exits 2 for \`torsion ${argv.join(' ')}\``, async () => {
      const result = await run(argv);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(message);
    });
  }
});
