// examples/dist/udp-echo-server.js: a UDP echo on 127.0.0.1 that logs where it
// listens, answers each datagram to its sender, and exits 0 on SIGTERM after
// stopping its protocol.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'udp-echo-server.js');

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
      const match = /listening on udp 127\.0\.0\.1:(\d+)/.exec(stderr);
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

describe('examples/udp-echo-server', function () {
  this.timeout(20_000);
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;

  afterEach(() => {
    if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
    demo = undefined;
  });

  it('echoes each datagram to its sender, then stops cleanly with exit code 0 on SIGTERM', async () => {
    demo = await startDemo();
    const peer = createSocket('udp4');
    try {
      peer.bind(0, '127.0.0.1');
      await once(peer, 'listening');
      for (const text of ['one', 'two']) {
        const reply = once(peer, 'message');
        peer.send(text, demo.port, '127.0.0.1');
        const [data] = (await reply) as [Buffer];
        expect(data.toString()).to.equal(text);
      }
    } finally {
      peer.close();
    }
    const exited = once(demo.child, 'exit');
    demo.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, demo.stderr()).to.equal(0);
    expect(demo.stderr()).to.include('stopped');
  });
});
