// BunReactor's TLS against real peers that are not Torsion: Node's `tls`
// (a child process, `node -e`) as server and as client, with mutual TLS and
// ALPN, `openssl s_server` requiring a client certificate, and
// `openssl s_client`, which shows the alerts on the wire: a
// loseConnection() sends close_notify, an abortConnection() does not. A peer
// that is not installed skips its tests and says so.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionsForClientTLS, serverTLSOptions } from '@torsion/core';
import type { ITLSTransport } from '@torsion/core';
import {
  makeTestCertificates,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
  writeTestCertificates,
} from '@torsion/core/testing';
import type { TestCertificateFiles } from '@torsion/core/testing';
import { BunReactor } from '../src/index.js';
import { until } from './support/helpers.js';

const certs = makeTestCertificates();

function installed(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

const HAVE_NODE = installed('node', ['--version']);
const HAVE_OPENSSL = installed('openssl', ['version']);

/** Runs `command`, feeding `input`; resolves with its output once it exits (killed after 10 s). */
function run(
  command: string,
  args: string[],
  input = '',
  onStdout?: (text: string) => void,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

class Echo extends RecordingProtocol {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

describe('TLS on BunReactor against real peers', () => {
  let reactor: BunReactor;
  let done: Promise<void>;
  let dir: string;
  let files: TestCertificateFiles;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-bun-tls-'));
    files = writeTestCertificates(dir);
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.5 });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  describe('Node tls', () => {
    before(function () {
      if (!HAVE_NODE) {
        console.warn('SKIPPED: no `node` on PATH for the Node tls interop tests');
        this.skip();
      }
    });

    it('a Node tls client verifies the Bun server, presents its certificate, agrees on ALPN and gets its echo', async () => {
      const factory = new RecordingFactory(() => new Echo());
      const port = reactor.listenSSL(
        0,
        factory,
        serverTLSOptions({
          key: certs.server.key,
          cert: certs.server.cert,
          trustRoot: certs.ca.cert,
          clientCertificates: 'require',
          alpnProtocols: ['torsion/1'],
        }),
        { interface: '127.0.0.1' },
      );
      await port.whenListening();
      const script = `
        const tls = require('node:tls'); const fs = require('node:fs');
        const s = tls.connect({ host: '127.0.0.1', port: ${String(port.getHost().port)},
          servername: 'localhost', ca: fs.readFileSync(${JSON.stringify(files.caCert)}),
          key: fs.readFileSync(${JSON.stringify(files.clientKey)}),
          cert: fs.readFileSync(${JSON.stringify(files.clientCert)}), ALPNProtocols: ['torsion/1'] },
          () => { s.write('ping from node'); });
        let got = '';
        s.on('data', (d) => { got += d; if (got.length >= 14) s.end(); });
        s.on('end', () => { console.log(JSON.stringify({ got, authorized: s.authorized, alpn: s.alpnProtocol })); });
        s.on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); });
      `;
      const { stdout } = await run('node', ['-e', script]);
      expect(JSON.parse(stdout.trim())).to.deep.equal({
        got: 'ping from node',
        authorized: true,
        alpn: 'torsion/1',
      });
      const server = await factory.nth(1);
      const transport = server.transport as unknown as ITLSTransport;
      expect(transport.getPeerCertificate()?.subject.CN).to.be.a('string');
      expect(transport.negotiatedProtocol).to.equal('torsion/1');
    });

    it('the Bun client verifies a Node tls server by name and trust root, with mutual TLS, and echoes', async () => {
      const script = `
        const tls = require('node:tls'); const fs = require('node:fs');
        const server = tls.createServer({ key: fs.readFileSync(${JSON.stringify(files.serverKey)}),
          cert: fs.readFileSync(${JSON.stringify(files.serverCert)}),
          ca: fs.readFileSync(${JSON.stringify(files.caCert)}), requestCert: true, rejectUnauthorized: true,
          ALPNProtocols: ['torsion/1'] }, (s) => {
            s.on('data', (d) => s.write(d));
            s.on('end', () => { s.end(); server.close(); });
          });
        server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
        setTimeout(() => process.exit(3), 8000).unref();
      `;
      let resolvePort: (port: number) => void = () => {};
      const portKnown = new Promise<number>((resolve) => {
        resolvePort = resolve;
      });
      const child = run('node', ['-e', script], '', (out) => {
        const match = /PORT (\d+)/.exec(out);
        if (match !== null) resolvePort(Number(match[1]));
      });
      const port = await portKnown;
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectSSL(
        '127.0.0.1',
        port,
        factory,
        optionsForClientTLS('localhost', {
          trustRoot: certs.ca.cert,
          clientCertificate: certs.client,
          alpnProtocols: ['torsion/1'],
        }),
      );
      const client = await factory.firstBuilt;
      await client.made;
      expect((client.transport as unknown as ITLSTransport).negotiatedProtocol).to.equal(
        'torsion/1',
      );
      client.transport.write('ping from bun');
      expect((await client.waitForBytes(13)).toString()).to.equal('ping from bun');
      client.transport.loseConnection();
      await client.lost;
      expect((await child).status).to.equal(0);
    });
  });

  describe('openssl s_client and s_server', () => {
    before(function () {
      if (!HAVE_OPENSSL) {
        console.warn('SKIPPED: no `openssl` on PATH for the close_notify tests');
        this.skip();
      }
    });

    async function sClientAgainst(end: (p: RecordingProtocol) => void): Promise<string> {
      class Greeter extends RecordingProtocol {
        handshakeCompleted(): void {
          this.transport.write('hello from torsion\n');
          end(this);
        }
      }
      const port = reactor.listenSSL(
        0,
        new RecordingFactory(() => new Greeter()),
        serverTLSOptions({ key: certs.server.key, cert: certs.server.cert }),
        { interface: '127.0.0.1' },
      );
      await port.whenListening();
      const { stdout } = await run(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${String(port.getHost().port)}`,
          '-servername',
          'localhost',
          '-CAfile',
          files.caCert,
          '-verify_return_error',
          '-msg',
          '-ign_eof',
        ],
        '',
      );
      expect(stdout).to.include('hello from torsion');
      expect(stdout).to.match(/Verify return code: 0 \(ok\)/);
      return stdout;
    }

    it('the Bun client verifies openssl s_server, presents its certificate (required) and agrees on ALPN', async () => {
      let resolvePort: (port: number) => void = () => {};
      const portKnown = new Promise<number>((resolve) => {
        resolvePort = resolve;
      });
      const server = run(
        'openssl',
        [
          's_server',
          '-accept',
          '127.0.0.1:0',
          '-key',
          files.serverKey,
          '-cert',
          files.serverCert,
          '-Verify',
          '1',
          '-verifyCAfile',
          files.caCert,
          '-verify_return_error',
          '-alpn',
          'torsion/1',
          '-rev',
          '-naccept',
          '1',
        ],
        '',
        (out) => {
          const match = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
          if (match !== null) resolvePort(Number(match[1]));
        },
      );
      const port = await portKnown;
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectSSL(
        '127.0.0.1',
        port,
        factory,
        optionsForClientTLS('localhost', {
          trustRoot: certs.ca.cert,
          clientCertificate: certs.client,
          alpnProtocols: ['torsion/1'],
        }),
      );
      const client = await factory.firstBuilt;
      await client.made;
      expect((client.transport as unknown as ITLSTransport).negotiatedProtocol).to.equal(
        'torsion/1',
      );
      client.transport.write('hello openssl\n');
      await until(() => client.text().includes('lssnepo olleh'));
      client.transport.loseConnection();
      await client.lost;
      await server;
    });

    it('loseConnection() sends close_notify before the FIN', async () => {
      const out = await sClientAgainst((p) => {
        p.transport.loseConnection();
      });
      expect(out).to.match(/<<< TLS [0-9.]+, Alert \[length 0002\], warning close_notify/);
    });

    it('loseWriteConnection() sends close_notify too (TLS 1.3 half-close)', async () => {
      const out = await sClientAgainst((p) => {
        p.transport.loseWriteConnection();
      });
      expect(out).to.match(/<<< TLS 1\.3, Alert \[length 0002\], warning close_notify/);
    });

    it('abortConnection() sends no close_notify', async () => {
      const out = await sClientAgainst((p) => {
        setTimeout(() => {
          p.transport.abortConnection();
        }, 200);
      });
      expect(out).not.to.match(/<<< TLS [0-9.]+, Alert \[length 0002\], warning close_notify/);
    });
  });
});
