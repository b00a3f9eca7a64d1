// `torsion echo --listen ssl:…` as a process, with real TLS clients
// (node:tls, and `openssl s_client` where installed): echo over TLS, mutual
// TLS and ALPN from the endpoint string, and certificate reload on SIGHUP —
// a new connection sees the new certificate while one opened before keeps
// working, and a broken renewal leaves the previous certificate in service.
// Run under Node (NodeReactor) and, where the Bun binary is installed, under
// Bun (BunReactor).
import { makeTestCertificates, writeTestCertificates } from '@torsion/core/testing';
import type { TestCertificateFiles } from '@torsion/core/testing';
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin/torsion.js');
const bunBinary = join(repoRoot, 'node_modules/.bin/bun');

const certs = makeTestCertificates();
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

interface Runtime {
  readonly name: string;
  readonly command: string | null;
}

const RUNTIMES: readonly Runtime[] = [
  { name: 'Node (NodeReactor)', command: process.execPath },
  { name: 'Bun (BunReactor)', command: existsSync(bunBinary) ? bunBinary : null },
];

/** A running `torsion`, its stderr as it grows, and the port it listens on. */
interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  stderr(): string;
  /** Resolves once stderr matches `pattern` (bounded: 10 s). */
  waitFor(pattern: RegExp): Promise<void>;
}

function openssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** A TLS connection to the echo server, open once the handshake is done. */
async function tlsConnect(port: number, options: ConnectionOptions = {}): Promise<TLSSocket> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ca: certs.ca.cert,
    servername: 'localhost',
    ...options,
  });
  await Promise.race([
    once(socket, 'secureConnect'),
    once(socket, 'error').then(([err]) => {
      throw err as Error;
    }),
  ]);
  return socket;
}

/** Sends `text` and reads until that many bytes came back. */
async function roundTrip(socket: TLSSocket, text: string): Promise<string> {
  let received = '';
  const done = new Promise<void>((resolveDone, reject) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (received.length >= text.length) {
        socket.off('data', onData);
        resolveDone();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => resolveDone());
  });
  socket.write(text);
  await done;
  return received;
}

/**
 * Why the server would not serve a client with `options`: the handshake's
 * error, or the connection closing unanswered; `null` if it echoed.
 */
async function refusal(port: number, options: ConnectionOptions = {}): Promise<string | null> {
  let socket: TLSSocket;
  try {
    socket = await tlsConnect(port, options);
  } catch (err) {
    return (err as Error).message;
  }
  // TLS 1.3: a server's refusal of the client certificate comes after the
  // client's handshake finished, on the first read.
  const reply = await roundTrip(socket, 'x').catch((err: unknown) => err as Error);
  socket.destroy();
  if (reply instanceof Error) return reply.message;
  return reply === 'x' ? null : 'closed without a reply';
}

for (const runtime of RUNTIMES) {
  describe(`torsion echo --listen ssl:… on ${runtime.name}`, function () {
    this.timeout(30_000);
    let dir = '';
    let files: TestCertificateFiles;
    let running: Running | null = null;
    const sockets: TLSSocket[] = [];

    before(function () {
      if (runtime.command === null) this.skip();
    });
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'torsion-runner-ssl-'));
      files = writeTestCertificates(dir);
      copyFileSync(files.serverKey, join(dir, 'live.key'));
      copyFileSync(files.serverCert, join(dir, 'live.pem'));
    });
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.destroy();
      if (running?.child.exitCode === null) running.child.kill('SIGKILL');
      running = null;
      rmSync(dir, { recursive: true, force: true });
    });

    async function start(endpoint: string): Promise<Running> {
      const child = spawn(runtime.command ?? '', [bin, 'echo', '--listen', endpoint], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      const waiters: { pattern: RegExp; resolve: () => void }[] = [];
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(stderr)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      });
      const waitFor = (pattern: RegExp): Promise<void> =>
        new Promise<void>((resolveWait, reject) => {
          if (pattern.test(stderr)) {
            resolveWait();
            return;
          }
          const timer = setTimeout(
            () => reject(new Error(`no ${String(pattern)} within 10 s; stderr: ${stderr}`)),
            10_000,
          );
          waiters.push({
            pattern,
            resolve: () => {
              clearTimeout(timer);
              resolveWait();
            },
          });
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`torsion exited with ${String(code)}: ${stderr}`));
          });
        });
      await waitFor(/echo listening on 127\.0\.0\.1:\d+ over TLS/);
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      running = { child, port, stderr: () => stderr, waitFor };
      return running;
    }

    async function opened(port: number, options?: ConnectionOptions): Promise<TLSSocket> {
      const socket = await tlsConnect(port, options);
      sockets.push(socket);
      return socket;
    }

    async function stop(server: Running): Promise<void> {
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code, server.stderr()).to.equal(0);
    }

    it('serves echo over TLS with the certificate from the files', async () => {
      const server = await start('ssl:0:interface=127.0.0.1:privateKey=live.key:certKey=live.pem');
      const socket = await opened(server.port);
      expect(socket.getPeerCertificate().fingerprint256).to.equal(fingerprint(certs.server.cert));
      expect(await roundTrip(socket, 'hello over TLS\n')).to.equal('hello over TLS\n');
      await stop(server);
    });

    it('reloads the certificate on SIGHUP: new connections get it, open ones keep working', async () => {
      const server = await start('ssl:0:interface=127.0.0.1:privateKey=live.key:certKey=live.pem');
      const before = await opened(server.port);
      expect(await roundTrip(before, 'one\n')).to.equal('one\n');

      // The renewal: another identity (sni.example) in the same files.
      copyFileSync(files.sniKey, join(dir, 'live.key'));
      copyFileSync(files.sniCert, join(dir, 'live.pem'));
      server.child.kill('SIGHUP');
      await server.waitFor(/echo: reloaded the certificate of ssl:0:.*CN=sni\.example/);

      const after = await opened(server.port, { servername: 'sni.example' });
      expect(after.getPeerCertificate().fingerprint256).to.equal(fingerprint(certs.sni.cert));
      expect(await roundTrip(after, 'two\n')).to.equal('two\n');
      expect(before.getPeerCertificate().fingerprint256).to.equal(fingerprint(certs.server.cert));
      expect(await roundTrip(before, 'still here\n')).to.equal('still here\n');

      // A renewal caught half-way (new key, old certificate): refused, logged,
      // and the previous certificate stays in service.
      copyFileSync(files.serverKey, join(dir, 'live.key'));
      server.child.kill('SIGHUP');
      await server.waitFor(
        /error: echo: cannot reload the certificate of ssl:0:.*does not belong to the certificate.*; still serving the previous one \(.*CN=sni\.example/,
      );
      const third = await opened(server.port, { servername: 'sni.example' });
      expect(third.getPeerCertificate().fingerprint256).to.equal(fingerprint(certs.sni.cert));
      expect(await roundTrip(third, 'three\n')).to.equal('three\n');
      await stop(server);
    });

    it('asks for client certificates with caCerts and clientCertificates=require', async () => {
      const server = await start(
        'ssl:0:interface=127.0.0.1:privateKey=live.key:certKey=live.pem:caCerts=ca.pem:clientCertificates=require',
      );
      const socket = await opened(server.port, {
        key: certs.client.key,
        cert: certs.client.cert,
      });
      expect(await roundTrip(socket, 'mutual\n')).to.equal('mutual\n');
      expect(await refusal(server.port)).to.not.equal(null);
      await stop(server);
    });

    it('negotiates ALPN from alpn= and serves a certificate file holding the key too', async () => {
      writeFileSync(
        join(dir, 'both.pem'),
        readFileSync(files.serverKey, 'utf8') + readFileSync(files.serverCert, 'utf8'),
      );
      const server = await start('ssl:0:interface=127.0.0.1:privateKey=both.pem:alpn=h2,http/1.1');
      const socket = await opened(server.port, { ALPNProtocols: ['http/1.1'] });
      expect(socket.alpnProtocol).to.equal('http/1.1');
      expect(socket.getPeerCertificate().fingerprint256).to.equal(fingerprint(certs.server.cert));
      expect(await roundTrip(socket, 'alpn\n')).to.equal('alpn\n');
      await stop(server);
    });

    it('is verified and echoes for openssl s_client', async function () {
      if (!openssl()) this.skip();
      const server = await start('ssl:0:interface=127.0.0.1:privateKey=live.key:certKey=live.pem');
      const client = spawn(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${String(server.port)}`,
          '-servername',
          'localhost',
          '-verify_hostname',
          'localhost',
          '-CAfile',
          files.caCert,
          '-verify_return_error',
          '-brief',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      client.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const echoed = new Promise<void>((resolveEchoed) => {
        client.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('from openssl')) resolveEchoed();
        });
      });
      const exited = once(client, 'exit');
      client.stdin.write('from openssl\n');
      await Promise.race([
        echoed,
        exited.then(() => {
          throw new Error(`s_client exited early: ${stderr}`);
        }),
      ]);
      client.stdin.end();
      await exited;
      expect(stderr).to.match(/Verification: OK/);
      expect(stdout).to.include('from openssl\n');
      await stop(server);
    });

    it('exits 1 with one line naming the file when the key does not match the certificate', async () => {
      const child = spawn(
        runtime.command ?? '',
        [bin, 'echo', '--listen', 'ssl:0:privateKey=sni.key:certKey=live.pem'],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, stderr).to.equal(1);
      expect(stderr).to.match(
        /^torsion: echo: ssl:0:privateKey=sni\.key:certKey=live\.pem: cannot use the certificate files: the private key \(.*sni\.key\) does not belong to the certificate \(.*live\.pem\)\n$/,
      );
    });
  });
}
