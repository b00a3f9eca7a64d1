// examples/dist/stdio-calc.js, a LineReceiver over StandardIO in a real child process:
// answers piped lines, exits at the end of input, writes at its reader's pace, survives EPIPE,
// and runs with a file as stdin and stdout, and on a terminal.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'stdio-calc.js');

function start(...args: string[]): {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [script, ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  if (args.length === 0) child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The child's resident memory in bytes, from /proc (0 once it is gone). */
function residentBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

describe('examples/stdio-calc', function () {
  this.timeout(30_000);
  const running: ChildProcessWithoutNullStreams[] = [];

  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('answers each line piped in, and exits 0 at the end of input once every answer is out', async () => {
    const calc = start();
    running.push(calc.child);
    calc.child.stdin.write('sum 1 2 3.5\nupper ');
    calc.child.stdin.write('split line\nnope\n');
    calc.child.stdin.end('sum 40 2\n');
    expect(await calc.exited, calc.stderr()).to.equal(0);
    expect(calc.stdout()).to.equal('6.5\nSPLIT LINE\nerror: unknown command "nope"\n42\n');
  });

  it('answers while its input stays open, and quit ends it', async () => {
    const calc = start();
    running.push(calc.child);
    calc.child.stdin.write('upper first\n');
    const [first] = (await once(calc.child.stdout, 'data')) as [Buffer];
    expect(first.toString()).to.equal('FIRST\n');
    calc.child.stdin.write('quit\n');
    expect(await calc.exited, calc.stderr()).to.equal(0);
    expect(calc.stdout()).to.equal('FIRST\nbye\n');
  });

  it('writes 64 MiB at the pace of a slow reader, its memory bounded', async () => {
    const blast = start('--blast', '64');
    running.push(blast.child);
    const pid = blast.child.pid ?? 0;
    // Its memory once it runs and has started writing.
    let baseline = 0;
    let received = 0;
    let peak = 0;
    let nextPause = 1 << 20;
    blast.child.stdout.on('data', (chunk: Buffer) => {
      if (received === 0) baseline = residentBytes(pid);
      received += chunk.length;
      if (received >= nextPause) {
        // A slow reader: a pause after every MiB.
        nextPause += 1 << 20;
        blast.child.stdout.pause();
        peak = Math.max(peak, residentBytes(pid));
        setTimeout(() => blast.child.stdout.resume(), 15);
      }
    });
    expect(await blast.exited, blast.stderr()).to.equal(0);
    expect(received).to.equal(64 << 20);
    // Without backpressure the child holds all 64 MiB at once, early on.
    expect(peak - baseline, `baseline ${String(baseline)}, peak ${String(peak)}`).to.be.below(
      48 << 20,
    );
  });

  it('ends its connection, without crashing, when its reader goes away (EPIPE)', async () => {
    const blast = start('--blast', '64');
    running.push(blast.child);
    await once(blast.child.stdout, 'data');
    blast.child.stdout.destroy();
    expect(await blast.exited, blast.stderr()).to.equal(0);
    expect(blast.stderr()).not.to.match(/Unhandled|uncaught/i);
  });

  it('reads stdin from a file and writes stdout to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stdio-calc-'));
    try {
      writeFileSync(join(dir, 'in'), 'sum 2 2\nupper file\n');
      const input = openSync(join(dir, 'in'), 'r');
      const output = openSync(join(dir, 'out'), 'w');
      const child = spawn(process.execPath, [script], { stdio: [input, output, 'pipe'] });
      closeSync(input);
      closeSync(output);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).to.equal(0);
      expect(readFileSync(join(dir, 'out'), 'utf8')).to.equal('4\nFILE\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs on a terminal (a pseudo-terminal from python3), ending with quit', async function () {
    const python = '/usr/bin/python3';
    // A terminal comes from python3's pty module (Debian: python3).
    if (!existsSync(python)) this.skip();
    // The child's stdin and stdout are the pty; the script types two lines into it.
    const driver = [
      'import os, pty, sys, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      'os.write(fd, b"upper tty\\nquit\\n")',
      'out = b""',
      'while True:',
      '    try:',
      '        chunk = os.read(fd, 4096)',
      '    except OSError:',
      '        break',
      '    if not chunk:',
      '        break',
      '    out += chunk',
      '_, status = os.waitpid(pid, 0)',
      'sys.stdout.write(out.decode())',
      'sys.exit(os.waitstatus_to_exitcode(status))',
    ].join('\n');
    const child = spawn(python, ['-c', driver, process.execPath, script]);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, out).to.equal(0);
    // The terminal echoes what was typed, and turns \n into \r\n on output.
    expect(out).to.match(/TTY\r?\n/);
    expect(out).to.match(/bye\r?\n/);
  });
});
