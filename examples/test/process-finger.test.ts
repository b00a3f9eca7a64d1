// examples/dist/process-finger.js: a finger server whose answers come from
// an external command (getProcessOutput). The command here is a small shell
// script in a temp directory; the server runs as a real process on
// 127.0.0.1 port 0 and is queried over loopback.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'process-finger.js');

async function startServer(
  command: string,
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', FINGER_COMMAND: command },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 10_000);
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
      reject(new Error(`server exited early with ${String(code)}: ${stderr}`));
    });
  });
  return { child, port, stderr: () => stderr };
}

async function finger(port: number, user: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(`${user}\r\n`);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(socket, 'close');
  return received;
}

describe('examples/process-finger', function () {
  this.timeout(20_000);
  let dir: string;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-finger-'));
  });
  afterEach(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function command(body: string): string {
    const path = join(dir, 'lookup');
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('answers with what the command printed for the user', async () => {
    server = await startServer(command('echo "Login: $1"; echo "Plan: world domination"'));
    expect(await finger(server.port, 'alice')).to.equal('Login: alice\nPlan: world domination\n');
  });

  it('never passes a name that could be an option or a second argument', async () => {
    server = await startServer(command('echo "ran with $#: $*"'));
    expect(await finger(server.port, '-l')).to.equal('No such user\n');
    expect(await finger(server.port, 'alice bob')).to.equal('No such user\n');
  });

  it('a failing command (stderr, or missing) is logged and answered with one line', async () => {
    server = await startServer(command('echo "lookup: database down" >&2'));
    expect(await finger(server.port, 'alice')).to.equal('Internal error in server\n');
    expect(server.stderr()).to.contain('the finger command failed');
    server.child.kill('SIGKILL');

    server = await startServer(join(dir, 'no-such-command'));
    expect(await finger(server.port, 'alice')).to.equal('Internal error in server\n');
    expect(server.stderr()).to.contain('ENOENT');
  });
});
