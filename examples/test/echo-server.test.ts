// examples/dist/echo-server.js, the smallest complete server: echo on 127.0.0.1,
// logs where it listens, and exits 0 on SIGTERM after closing cleanly.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'echo-server.js');

async function startDemo(): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${stderr}`)), 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited early with ${String(code)}: ${stderr}`));
    });
  });
  return { child, port, stderr: () => stderr };
}

async function echoOnce(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.end(text);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(socket, 'close');
  return received;
}

describe('examples/echo-server', function () {
  this.timeout(20_000);
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;

  afterEach(() => {
    if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
    demo = undefined;
  });

  it('echoes what clients send, to several clients', async () => {
    demo = await startDemo();
    const replies = await Promise.all(
      ['one', 'two', 'three'].map((text) => echoOnce(demo?.port ?? 0, text)),
    );
    expect(replies).to.deep.equal(['one', 'two', 'three']);
  });

  it('stops cleanly with exit code 0 on SIGTERM', async () => {
    demo = await startDemo();
    const exited = once(demo.child, 'exit');
    demo.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, demo.stderr()).to.equal(0);
  });
});
