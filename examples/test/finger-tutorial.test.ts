// The finger tutorial (docs/tutorial/finger): every step runs as a real
// process on 127.0.0.1 port 0 and is queried over loopback; step 7's own test
// file runs in the main test run (the root test glob includes
// examples/src/**/*.test.ts); and each page shows its listings unchanged.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const examples = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(examples, '..');
const tutorialDocs = join(repoRoot, 'docs', 'tutorial', 'finger');

function step(n: number): string {
  return join(examples, 'dist', 'finger', `finger0${String(n)}.js`);
}

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

const running: ChildProcess[] = [];

/** Starts a step's server with PORT=0 and waits for its "listening on" log line. */
async function serve(n: number, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [step(n)], {
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(child);
  let stderr = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`step ${String(n)} did not start: ${stderr}`)),
      10_000,
    );
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
      reject(new Error(`step ${String(n)} exited early with ${String(code)}: ${stderr}`));
    });
  });
  return { child, port, stderr: () => stderr };
}

/** Connects, sends `request` (if any), and collects everything until the server closes. */
async function query(port: number, request?: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  if (request !== undefined) socket.write(request);
  const timer = setTimeout(() => socket.destroy(new Error('the server did not hang up')), 5_000);
  try {
    await once(socket, 'close');
  } finally {
    clearTimeout(timer);
  }
  return received;
}

/** Stops a server with SIGTERM and returns its exit code. */
async function stop(server: Running): Promise<number | null> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('the finger tutorial', function () {
  this.timeout(30_000);

  afterEach(() => {
    for (const child of running.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('step 1 drops every connection without a word', async () => {
    const server = await serve(1);
    expect(await query(server.port)).to.equal('');
    expect(await query(server.port, 'moshez\r\n')).to.equal('');
    expect(await stop(server), server.stderr()).to.equal(0);
  });

  it('step 2 answers "No such user" to any user name', async () => {
    const server = await serve(2);
    expect(await query(server.port, 'moshez\r\n')).to.equal('No such user\r\n');
    expect(await query(server.port, 'nobody\r\n')).to.equal('No such user\r\n');
    expect(await stop(server), server.stderr()).to.equal(0);
  });

  for (const n of [3, 4]) {
    it(`step ${String(n)} answers from its user database`, async () => {
      const server = await serve(n);
      expect(await query(server.port, 'moshez\r\n')).to.equal('Happy and well\r\n');
      expect(await query(server.port, 'nobody\r\n')).to.equal('No such user\r\n');
      expect(await stop(server), server.stderr()).to.equal(0);
    });
  }

  for (const n of [5, 7]) {
    it(`step ${String(n)} answers queries and drops clients that stay silent`, async () => {
      const server = await serve(n, { TIMEOUT: '0.2' });
      expect(await query(server.port, 'moshez\r\n')).to.equal('Happy and well\r\n');
      // Sends nothing: the idle timeout hangs up (query() gives up after 5 s).
      expect(await query(server.port)).to.equal('');
      expect(await stop(server), server.stderr()).to.equal(0);
    });
  }

  it('step 6 is a client that prints the reply, and reports failures', async () => {
    const server = await serve(5);
    const ok = spawnSync(process.execPath, [step(6), 'moshez'], {
      env: { ...process.env, PORT: String(server.port) },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal('Happy and well\n');
    expect(await stop(server)).to.equal(0);
    // Nothing listens there any more: the client says why and exits 1.
    const refused = spawnSync(process.execPath, [step(6), 'moshez'], {
      env: { ...process.env, PORT: String(server.port) },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(refused.status).to.equal(1);
    expect(refused.stdout).to.equal('');
    expect(refused.stderr).to.match(/refused/i);
  });

  it('each tutorial page shows its listings exactly as the files are', () => {
    const pages = readdirSync(tutorialDocs).filter((name) => /^\d\d-.*\.md$/.test(name));
    expect(pages).to.have.length(7);
    let listings = 0;
    for (const page of pages) {
      const text = readFileSync(join(tutorialDocs, page), 'utf8');
      const marker = /<!-- listing: (\S+) -->\s*```ts\n([\s\S]*?)```\n/g;
      let found = false;
      for (const match of text.matchAll(marker)) {
        found = true;
        listings++;
        const file = readFileSync(join(repoRoot, match[1] ?? ''), 'utf8');
        expect(match[2], `${page} shows ${match[1] ?? ''}`).to.equal(file);
      }
      expect(found, `${page} has a listing`).to.equal(true);
    }
    const files = readdirSync(join(examples, 'src', 'finger')).filter((f) => f.endsWith('.ts'));
    expect(listings).to.equal(files.length);
  });
});
