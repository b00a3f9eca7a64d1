// Interop over TLS with a real Twisted 22.4 peer on 127.0.0.1: a Twisted
// client verifying a Torsion listenSSL server, a Torsion connectSSL client
// verifying a Twisted listenSSL server (each also with the wrong CA, which
// must fail verification), and a STARTTLS line protocol switching on both
// sides, Torsion as server and as client. Torsion runs on NodeReactor; the
// Twisted side is test/fixtures/twisted_tls_peer.py. Needs `/usr/bin/python3`
// with Twisted, pyOpenSSL and service_identity (Debian: python3-twisted,
// python3-openssl, python3-service-identity); skipped, with a message on
// stderr, when they cannot be imported. Every wait is bounded by the test
// timeout and by the peer's own 20-second limit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  Factory,
  NodeReactor,
  TLSError,
  optionsForClientTLS,
  serverTLSOptions,
  type ClientTLSOptions,
  type Failure,
  type IProtocolFactory,
  type ITLSTransport,
  type ServerTLSOptions,
} from '@torsion/core';
import {
  Eventual,
  LogCapture,
  RecordingClientFactory,
  makeTestCertificates,
  writeTestCertificates,
} from '@torsion/core/testing';
import { LineReceiver } from '../src/line-receiver.js';

const PEER = fileURLToPath(new URL('./fixtures/twisted_tls_peer.py', import.meta.url));
const PYTHON = ['/usr/bin/python3', 'python3'].find(
  (exe) =>
    spawnSync(exe, ['-c', 'import twisted, OpenSSL, service_identity'], { timeout: 20_000 })
      .status === 0,
);

/** Lines both sides send: short, empty, long, and the one that ends the conversation. */
const LINES = ['hello', 'tab\there', 'x'.repeat(5000), 'bye'];

/** What a Twisted client prints for a conversation that went well. */
const TWISTED_CLIENT_OK = [
  'HANDSHAKE',
  ...LINES.map((line) => `LINE got:${line}:tls`),
  'LOST ConnectionDone: Connection was closed cleanly.',
];

type Files = ReturnType<typeof writeTestCertificates>;

/** A Twisted process: its stdout lines so far, and a promise of all of them once it exits. */
interface Peer {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<string[]>;
}

function spawnPeer(args: string[], children: ChildProcess[]): Peer {
  const child = spawn(PYTHON!, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output: string[] = [];
  let pending = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    output.push(...lines);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  const exited = new Promise<string[]>((resolve) => {
    child.once('close', () => {
      if (errors !== '') process.stderr.write(`\n  twisted peer stderr:\n${errors}\n`);
      resolve(output);
    });
  });
  return { child, output, exited };
}

/** Starts a Twisted server and resolves with its port. */
async function startTwistedServer(
  mode: 'tls-server' | 'starttls-server',
  files: Files,
  children: ChildProcess[],
): Promise<{ port: number; peer: Peer }> {
  const peer = spawnPeer([mode, files.serverKey, files.serverCert], children);
  const port = await new Promise<number>((resolve, reject) => {
    const look = (): void => {
      const line = peer.output.find((l) => l.startsWith('PORT '));
      if (line !== undefined) resolve(Number(line.slice(5)));
    };
    peer.child.stdout!.on('data', look);
    void peer.exited.then(() => {
      reject(new Error(`Twisted server exited before listening: ${peer.output.join(' | ')}`));
    });
  });
  return { port, peer };
}

/** Runs a Twisted client to the end and resolves with what it printed. */
function runTwistedClient(
  mode: 'tls-client' | 'starttls-client',
  port: number,
  caFile: string,
  args: string[],
  children: ChildProcess[],
): Promise<string[]> {
  return spawnPeer([mode, String(port), caFile, ...args], children).exited;
}

/** True if `protocol`'s transport is speaking TLS now. */
function isSecure(transport: unknown): boolean {
  return (transport as ITLSTransport).secure;
}

/**
 * A Torsion line server: answers `got:<line>:tls|plain`, closes after `bye`.
 * With `startTLSOptions`, the line `STARTTLS` is answered `READY` and the
 * connection switches to TLS.
 */
class TorsionServer extends LineReceiver<IProtocolFactory, ITLSTransport> {
  static received: string[] = [];
  static handshakes = 0;
  static startTLSOptions: ServerTLSOptions | null = null;
  override MAX_LENGTH = 10_000;

  override lineReceived(line: Buffer): void {
    const text = line.toString('utf8');
    TorsionServer.received.push(text);
    if (text === 'STARTTLS' && TorsionServer.startTLSOptions !== null) {
      this.sendLine('READY');
      this.transport.startTLS(TorsionServer.startTLSOptions);
      return;
    }
    this.sendLine(`got:${text}:${isSecure(this.transport) ? 'tls' : 'plain'}`);
    if (text === 'bye') this.transport.loseConnection();
  }

  handshakeCompleted(): void {
    TorsionServer.handshakes += 1;
  }
}

/**
 * A Torsion line client: sends LINES (after switching, with
 * `startTLSOptions`: it sends `STARTTLS` and switches on `READY`) and records
 * what comes back and what the handshake showed.
 */
class TorsionClient extends LineReceiver<IProtocolFactory, ITLSTransport> {
  override MAX_LENGTH = 10_000;
  readonly received: string[] = [];
  readonly handshake = new Eventual<{ secure: boolean; peerCN: unknown }>();

  constructor(readonly startTLSOptions: ClientTLSOptions | null = null) {
    super();
  }

  override connectionMade(): void {
    if (this.startTLSOptions === null) this.#sendAll();
    else this.sendLine('STARTTLS');
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString('utf8');
    this.received.push(text);
    if (text === 'READY' && this.startTLSOptions !== null) {
      this.transport.startTLS(this.startTLSOptions);
      this.#sendAll();
    }
  }

  handshakeCompleted(): void {
    this.handshake.callback({
      secure: this.transport.secure,
      peerCN: this.transport.getPeerCertificate()?.subject.CN,
    });
  }

  #sendAll(): void {
    for (const line of LINES) this.sendLine(line);
  }
}

/** The TLSError code a failure carries, or what it is instead. */
function tlsCode(reason: Failure): string {
  const value: unknown = reason.value;
  return value instanceof TLSError ? value.code : `not a TLSError: ${String(value)}`;
}

describe('interop over TLS with a real Twisted peer (loopback)', function () {
  this.timeout(30_000);
  const certs = makeTestCertificates();
  const children: ChildProcess[] = [];
  let dir: string | undefined;
  let files: Files;
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;

  before(function () {
    if (PYTHON === undefined) {
      process.stderr.write(
        '\n  SKIPPED: Twisted with TLS support is not importable ' +
          '(install python3-twisted python3-openssl python3-service-identity)\n',
      );
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'torsion-twisted-tls-'));
    files = writeTestCertificates(dir);
  });

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    TorsionServer.received = [];
    TorsionServer.handshakes = 0;
    TorsionServer.startTLSOptions = null;
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  const clientOptions = (trustRoot: string): ClientTLSOptions =>
    optionsForClientTLS('localhost', { trustRoot });

  async function listenTorsion(how: 'ssl' | 'tcp'): Promise<{ port: number; built: () => number }> {
    let built = 0;
    const factory = new Factory();
    factory.buildProtocol = () => {
      built += 1;
      return new TorsionServer();
    };
    const options = serverTLSOptions({ keyFile: files.serverKey, certFile: files.serverCert });
    const listening =
      how === 'ssl'
        ? reactor.listenSSL(0, factory, options, { interface: '127.0.0.1' })
        : reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
    if (how === 'tcp') TorsionServer.startTLSOptions = options;
    await listening.whenListening();
    return { port: listening.getHost().port, built: () => built };
  }

  describe('a Twisted TLS client and a Torsion listenSSL server', () => {
    it('verifies the server against its CA and exchanges lines', async () => {
      const { port } = await listenTorsion('ssl');
      const output = await runTwistedClient('tls-client', port, files.caCert, LINES, children);
      expect(output).to.deep.equal(TWISTED_CLIENT_OK);
      expect(TorsionServer.received).to.deep.equal(LINES);
      expect(TorsionServer.handshakes).to.equal(1);
    });

    it('fails verification with the wrong CA; the server logs it and serves the next client', async () => {
      const { port, built } = await listenTorsion('ssl');
      const output = await runTwistedClient('tls-client', port, files.otherCaCert, LINES, children);
      expect(output).to.have.length(1);
      expect(output[0]).to.match(/^LOST Error: .*certificate verify failed/);
      expect(built(), 'no protocol is built for a failed handshake').to.equal(0);
      // The server logs the failure at 'info' on torsion.tls, with its code.
      for (let i = 0; i < 2000 && !logs.events.some(isHandshakeFailure); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(logs.events.filter(isHandshakeFailure).map((e) => e.fields.code)).to.deep.equal([
        'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
      ]);
      expect(
        await runTwistedClient('tls-client', port, files.caCert, LINES, children),
      ).to.deep.equal(TWISTED_CLIENT_OK);
    });
  });

  describe('a Torsion connectSSL client and a Twisted listenSSL server', () => {
    it('verifies the server against its CA and exchanges lines', async () => {
      const { port, peer } = await startTwistedServer('tls-server', files, children);
      const factory = new RecordingClientFactory(() => new TorsionClient());
      reactor.connectSSL('127.0.0.1', port, factory, clientOptions(certs.ca.cert));
      const client = await factory.firstBuilt;
      expect(await client.handshake).to.deep.equal({ secure: true, peerCN: 'localhost' });
      await factory.lost;
      expect(client.received).to.deep.equal(LINES.map((line) => `got:${line}:tls`));
      await peer.exited;
    });

    it('fails verification with the wrong CA: clientConnectionFailed with TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED', async () => {
      const { port } = await startTwistedServer('tls-server', files, children);
      const factory = new RecordingClientFactory(() => new TorsionClient());
      reactor.connectSSL('127.0.0.1', port, factory, clientOptions(certs.otherCa.cert));
      const reason = await factory.failed;
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      expect(factory.built, 'no protocol is built for a failed handshake').to.have.length(0);
    });
  });

  describe('a STARTTLS line protocol', () => {
    it('Torsion server, Twisted client: both switch after READY, then lines go encrypted', async () => {
      const { port } = await listenTorsion('tcp');
      const output = await runTwistedClient('starttls-client', port, files.caCert, LINES, children);
      expect(output).to.deep.equal(['LINE READY', ...TWISTED_CLIENT_OK]);
      expect(TorsionServer.received).to.deep.equal(['STARTTLS', ...LINES]);
      expect(TorsionServer.handshakes).to.equal(1);
    });

    it('Torsion server, Twisted client pipelining a plaintext line after STARTTLS: the line is never delivered', async () => {
      const { port } = await listenTorsion('tcp');
      const output = await runTwistedClient(
        'starttls-client',
        port,
        files.caCert,
        ['--pipeline', ...LINES],
        children,
      );
      expect(TorsionServer.received).to.not.include('INJECTED');
      // Loopback delivers the one write in one read, so the receiver drops
      // the line (with its warning) and the switch goes on. Were it split,
      // the line would reach the TLS engine and fail the handshake instead.
      const dropped = logs.events
        .filter((e) => e.namespace === 'torsion.line' && e.level === 'warn')
        .map((e) => e.fields.bytes);
      if (dropped.length > 0) {
        expect(dropped).to.deep.equal([Buffer.byteLength('INJECTED\r\n')]);
        expect(output).to.deep.equal(['LINE READY', ...TWISTED_CLIENT_OK]);
        expect(TorsionServer.received).to.deep.equal(['STARTTLS', ...LINES]);
      } else {
        expect(TorsionServer.received).to.deep.equal(['STARTTLS']);
        expect(output).to.not.include('HANDSHAKE');
      }
    });

    it('Twisted server, Torsion client: both switch after READY, then lines go encrypted', async () => {
      const { port, peer } = await startTwistedServer('starttls-server', files, children);
      const factory = new RecordingClientFactory(
        () => new TorsionClient(clientOptions(certs.ca.cert)),
      );
      reactor.connectTCP('127.0.0.1', port, factory);
      const client = await factory.firstBuilt;
      expect(await client.handshake).to.deep.equal({ secure: true, peerCN: 'localhost' });
      await factory.lost;
      expect(client.received).to.deep.equal(['READY', ...LINES.map((line) => `got:${line}:tls`)]);
      await peer.exited;
    });

    it('Twisted server, Torsion client with the wrong CA: the switch fails with TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED', async () => {
      const { port } = await startTwistedServer('starttls-server', files, children);
      const factory = new RecordingClientFactory(
        () => new TorsionClient(clientOptions(certs.otherCa.cert)),
      );
      reactor.connectTCP('127.0.0.1', port, factory);
      const client = await factory.firstBuilt;
      const reason = await factory.lost;
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      expect(client.handshake.called).to.equal(false);
      expect(client.received).to.deep.equal(['READY']);
    });
  });
});

function isHandshakeFailure(event: {
  namespace: string;
  fields: Record<string, unknown>;
}): boolean {
  return event.namespace === 'torsion.tls' && event.fields.code !== undefined;
}
