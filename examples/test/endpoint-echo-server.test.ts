// examples/dist/endpoint-echo-server.js: echo on the endpoints named on its command line (a TCP
// port and a UNIX socket here), logging where it listens; a bad endpoint is exit 2 with the
// EndpointError's message; SIGTERM exits 0.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type NetConnectOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'dist',
  'endpoint-echo-server.js',
);

async function echoOnce(options: NetConnectOpts, text: string): Promise<string> {
  const socket = connect(options);
  socket.end(text);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(socket, 'close');
  return received;
}

describe('examples/endpoint-echo-server', function () {
  this.timeout(20_000);
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-example-endpoints-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('echoes on a TCP port and a UNIX socket from endpoint strings, and exits 0 on SIGTERM', async () => {
    const path = join(dir, 'echo.sock');
    const child = spawn(process.execPath, [script, 'tcp:0:interface=127.0.0.1', `unix:${path}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    try {
      const port = await new Promise<number>((resolvePort, reject) => {
        const timer = setTimeout(() => reject(new Error(`did not start: ${stderr}`)), 10_000);
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
          if (match?.[1] !== undefined && stderr.includes(`listening on ${path}`)) {
            clearTimeout(timer);
            resolvePort(Number(match[1]));
          }
        });
      });
      expect(await echoOnce({ host: '127.0.0.1', port }, 'over tcp')).to.equal('over tcp');
      expect(await echoOnce({ path }, 'over unix')).to.equal('over unix');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect((await exited)[0]).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits 2 with the message naming the bad field', () => {
    const result = spawnSync(process.execPath, [script, 'tcp:99999'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).to.equal(2);
    expect(result.stderr).to.equal(
      "endpoint-echo-server: endpoint 'tcp:99999': port must be an integer from 0 to 65535, got '99999'\n",
    );
  });
});
