// StandardIO on BunReactor over Bun's own stdin and stdout, in a real Bun child: lines in and
// answers out, the end of input ends it, 64 MiB to a slow reader with bounded memory, and a
// reader that goes away (EPIPE) ends the connection without a crash.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./support/stdio-child.ts', import.meta.url));

function start(...args: string[]): {
  proc: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const proc = spawn(process.execPath, [child, ...args]);
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (args.length === 0) proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  return { proc, stdout: () => stdout, stderr: () => stderr, exited };
}

function residentBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

describe('StandardIO on BunReactor (a real Bun child)', function () {
  this.timeout(30_000);
  const running: ChildProcessWithoutNullStreams[] = [];

  afterEach(() => {
    for (const proc of running.splice(0)) if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('answers each line, and the end of input ends the connection cleanly, after every answer', async () => {
    const io = start();
    running.push(io.proc);
    io.proc.stdin.write('one\ntw');
    io.proc.stdin.end('o\nthree\n');
    expect(await io.exited, io.stderr()).to.equal(0);
    expect(io.stdout()).to.equal('ONE\nTWO\nTHREE\n');
    expect(io.stderr()).to.match(/lost: .*Connection was closed cleanly/i);
  });

  it('loseConnection ends it while stdin is still open', async () => {
    const io = start();
    running.push(io.proc);
    io.proc.stdin.write('hi\nquit\n');
    expect(await io.exited, io.stderr()).to.equal(0);
    expect(io.stdout()).to.equal('HI\n');
  });

  it('writes 64 MiB at the pace of a slow reader, its memory bounded', async () => {
    const io = start('blast', '64');
    running.push(io.proc);
    const pid = io.proc.pid ?? 0;
    let baseline = 0;
    let peak = 0;
    let received = 0;
    let nextPause = 1 << 20;
    io.proc.stdout.on('data', (chunk: Buffer) => {
      if (received === 0) baseline = residentBytes(pid);
      received += chunk.length;
      if (received >= nextPause) {
        nextPause += 1 << 20;
        io.proc.stdout.pause();
        peak = Math.max(peak, residentBytes(pid));
        setTimeout(() => io.proc.stdout.resume(), 15);
      }
    });
    expect(await io.exited, io.stderr()).to.equal(0);
    expect(received).to.equal(64 << 20);
    expect(peak - baseline, `baseline ${String(baseline)}, peak ${String(peak)}`).to.be.below(
      48 << 20,
    );
  });

  it('ends the connection, without a crash, when its reader goes away (EPIPE)', async () => {
    const io = start('blast', '64');
    running.push(io.proc);
    await once(io.proc.stdout, 'data');
    io.proc.stdout.destroy();
    expect(await io.exited, io.stderr()).to.equal(0);
    expect(io.stderr()).to.match(/lost: /);
  });
});
