// Real peers for NodeReactor's TLS: `openssl s_client` against a listenSSL
// server and a connectSSL client against `openssl s_server`, over loopback,
// including mutual TLS, ALPN and SNI. Each openssl process is spawned by the
// test, on port 0 or the port the server reports, and killed if it outlives
// its test. Skipped, with a warning, where `openssl` is not installed
// (`.ci/run` installs it).
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEvent } from '../src/log.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';
import {
  RecordingClientFactory,
  RecordingFactory,
  writeTestCertificates,
  type TestCertificateFiles,
} from '../src/testing/index.js';
import { optionsForClientTLS, type ClientTLSOptionsInit } from '../src/tls-options.js';
import { certs, serverOptions, TLSRecordingProtocol, tlsCode } from './support/tls-helpers.js';
import { until } from './support/tcp-helpers.js';

const OPENSSL = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const HAVE_OPENSSL = OPENSSL.status === 0;

/** Answers the first bytes with what the TLS connection looks like from here, then closes. */
class Reporter extends TLSRecordingProtocol {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    const t = this.tls;
    const report = {
      got: data.toString().trim(),
      version: t.getTLSVersion(),
      alpn: t.negotiatedProtocol,
      clientCN: t.getPeerCertificate()?.subject.CN ?? null,
    };
    this.transport.write(`${JSON.stringify(report)}\n`);
    this.transport.loseConnection();
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('NodeReactor TLS against OpenSSL (integration)', function () {
  this.timeout(20_000);
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;
  let files: TestCertificateFiles;
  let dir: string | undefined;
  const children: ChildProcess[] = [];

  before(function () {
    if (!HAVE_OPENSSL) {
      console.warn('    (skipped: `openssl` is not installed; .ci/run installs it)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'torsion-tls-openssl-'));
    files = writeTestCertificates(dir);
  });

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  function handshakeFailures(): LogEvent[] {
    return logs.events.filter((e) => e.namespace === 'torsion.tls' && e.fields.code !== undefined);
  }

  /** Runs `openssl s_client` to 127.0.0.1:port, writing `input` (stdin stays open: -quiet ignores EOF). */
  function sClient(port: number, args: string[], input: string): Promise<Run> {
    const child = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.write(input);
    return new Promise((resolve) => {
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Starts `openssl s_server` on a port of its choosing; resolves with the port. */
  async function sServer(
    args: string[],
    key = files.serverKey,
    cert = files.serverCert,
  ): Promise<number> {
    const child = spawn(
      'openssl',
      ['s_server', '-accept', '127.0.0.1:0', '-key', key, '-cert', cert, ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(child);
    let output = '';
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const match = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(output);
        if (match !== null) resolve(Number(match[1]));
      });
      child.on('close', (code) => reject(new Error(`s_server exited (${code}): ${output}`)));
    });
  }

  async function listen(options = serverOptions()) {
    const factory = new RecordingFactory(() => new Reporter());
    const listening = reactor.listenSSL(0, factory, options, { interface: '127.0.0.1' });
    await listening.whenListening();
    return { port: listening.getHost().port, factory };
  }

  function report(run: Run): Record<string, unknown> {
    const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
    if (line === undefined)
      throw new Error(`no report; stdout: ${run.stdout}; stderr: ${run.stderr}`);
    return JSON.parse(line) as Record<string, unknown>;
  }

  describe('openssl s_client against listenSSL', () => {
    const verify = () => ['-CAfile', files.caCert, '-verify_return_error'];

    it('verifies the server (chain and host name) and round-trips bytes over TLS 1.3', async () => {
      const { port } = await listen();
      const run = await sClient(
        port,
        [...verify(), '-servername', 'localhost', '-verify_hostname', 'localhost'],
        'hello from openssl\n',
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(report(run)).to.deep.equal({
        got: 'hello from openssl',
        version: 'TLSv1.3',
        alpn: null,
        clientCN: null,
      });
    });

    it('speaks TLS 1.2 with a client limited to it', async () => {
      const { port } = await listen();
      const run = await sClient(port, [...verify(), '-tls1_2'], 'twelve\n');
      expect(run.code, run.stderr).to.equal(0);
      expect(report(run).version).to.equal('TLSv1.2');
    });

    it('mutual TLS: the server sees the client certificate openssl presents', async () => {
      const { port } = await listen(
        serverOptions({ clientCertificates: 'require', trustRoot: certs.ca.cert }),
      );
      const run = await sClient(
        port,
        [...verify(), '-cert', files.clientCert, '-key', files.clientKey],
        'mutual\n',
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(report(run).clientCN).to.equal('torsion-test-client');
    });

    it('mutual TLS: refuses openssl without a certificate, logging TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED', async () => {
      const { port, factory } = await listen(
        serverOptions({ clientCertificates: 'require', trustRoot: certs.ca.cert }),
      );
      const run = await sClient(port, verify(), 'no cert\n');
      expect(run.stdout).to.not.contain('{');
      expect(run.stderr).to.match(/certificate required/i);
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal(
        'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
      );
      expect(factory.built).to.have.length(0);
    });

    it('negotiates the ALPN protocol openssl offers', async () => {
      const { port } = await listen(serverOptions({ alpnProtocols: ['h2', 'http/1.1'] }));
      const run = await sClient(port, [...verify(), '-alpn', 'http/1.1'], 'alpn\n');
      expect(run.code, run.stderr).to.equal(0);
      expect(report(run).alpn).to.equal('http/1.1');
    });

    it('presents the SNI certificate for the name openssl asks for', async () => {
      const { port } = await listen(serverOptions({ sni: { 'sni.example': certs.sni } }));
      const run = await sClient(
        port,
        [...verify(), '-servername', 'sni.example', '-verify_hostname', 'sni.example'],
        'sni\n',
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(report(run).got).to.equal('sni');
      const wrong = await sClient(
        port,
        [...verify(), '-servername', 'localhost', '-verify_hostname', 'sni.example'],
        'main\n',
      );
      expect(wrong.code).to.not.equal(0);
    });

    it('logs TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER when openssl does not trust the server', async () => {
      const { port, factory } = await listen();
      const run = await sClient(
        port,
        ['-CAfile', files.otherCaCert, '-verify_return_error'],
        'x\n',
      );
      expect(run.code).to.not.equal(0);
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal(
        'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
      );
      expect(factory.built).to.have.length(0);
    });
  });

  describe('connectSSL against openssl s_server', () => {
    async function connect(port: number, init: ClientTLSOptionsInit = {}, hostname = 'localhost') {
      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL(
        '127.0.0.1',
        port,
        factory,
        optionsForClientTLS(hostname, { trustRoot: certs.ca.cert, ...init }),
      );
      const outcome = await Promise.race([factory.firstBuilt, factory.failed]);
      return { factory, outcome };
    }

    async function connected(
      port: number,
      init: ClientTLSOptionsInit = {},
      hostname = 'localhost',
    ) {
      const { outcome } = await connect(port, init, hostname);
      if (!(outcome instanceof TLSRecordingProtocol)) throw outcome.value;
      await outcome.made;
      return outcome;
    }

    it('verifies openssl and round-trips a line (s_server -rev answers it reversed)', async () => {
      const port = await sServer(['-naccept', '1', '-rev']);
      const client = await connected(port);
      expect(client.snapshot!.version).to.equal('TLSv1.3');
      expect(client.snapshot!.peerCertificate!.subject.CN).to.equal('localhost');
      client.transport.write('hello openssl\n');
      expect((await client.waitForBytes(14)).toString()).to.contain('lssnepo olleh');
      client.transport.loseConnection();
      await client.lost;
    });

    it('mutual TLS: presents its certificate to an s_server that requires one', async () => {
      const port = await sServer([
        '-naccept',
        '1',
        '-rev',
        '-Verify',
        '1',
        '-CAfile',
        files.caCert,
      ]);
      const client = await connected(port, { clientCertificate: certs.client });
      client.transport.write('mutual\n');
      expect((await client.waitForBytes(7)).toString()).to.contain('lautum');
    });

    it('mutual TLS: without a certificate, the TLS 1.3 client is connected and then loses the connection with TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED', async () => {
      const port = await sServer([
        '-naccept',
        '1',
        '-rev',
        '-Verify',
        '1',
        '-CAfile',
        files.caCert,
      ]);
      const { outcome, factory } = await connect(port);
      const reason = outcome instanceof TLSRecordingProtocol ? await outcome.lost : outcome;
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
      expect(factory.events).to.include(
        outcome instanceof TLSRecordingProtocol ? 'clientConnectionLost' : 'clientConnectionFailed',
      );
    });

    it('negotiates ALPN with s_server', async () => {
      const port = await sServer(['-naccept', '1', '-rev', '-alpn', 'h2,http/1.1']);
      const client = await connected(port, { alpnProtocols: ['h2'] });
      expect(client.snapshot!.negotiatedProtocol).to.equal('h2');
    });

    it("sends SNI, and gets s_server's second certificate for that name", async () => {
      const port = await sServer([
        '-naccept',
        '1',
        '-rev',
        '-servername',
        'sni.example',
        '-cert2',
        files.sniCert,
        '-key2',
        files.sniKey,
      ]);
      const client = await connected(port, {}, 'sni.example');
      expect(client.snapshot!.peerCertificate!.subjectaltname).to.contain('DNS:sni.example');
    });

    it('refuses an s_server certificate from an untrusted CA with TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED', async () => {
      const port = await sServer(['-naccept', '1'], files.untrustedKey, files.untrustedCert);
      const { outcome } = await connect(port);
      expect(outcome).to.not.be.instanceOf(TLSRecordingProtocol);
      expect(tlsCode(outcome as never)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
    });
  });
});
