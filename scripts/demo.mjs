// `npm run demo`: builds the packages, then serves the given `torsion`
// arguments (echo and finger, see the root package.json) as a child process,
// passing SIGINT, SIGTERM and SIGHUP on to it and exiting with its exit code.
//
//   node scripts/demo.mjs <torsion arguments…>
//
// Why a launcher: npm runs a script through `sh -c`, and a shell that waits for
// a command neither passes a signal on to it nor dies with it, so stopping npm
// left the server listening. The demo script starts this launcher with `exec`,
// so the signals npm passes on reach it, and it passes them on to the server.
// TORSION_DEMO_SKIP_BUILD=1 skips the build (the tests, which build first).
//
// Tests: packages/runner/test/demo.integration.test.ts
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The running child: the build, then the server. */
let child = null;
let stopping = null;

// Each signal is passed on once: a terminal and npm may both deliver the same
// one, and the server's second SIGINT would cut its orderly stop short.
const forwarded = new Set();
for (const signal of FORWARDED) {
  process.on(signal, () => {
    stopping ??= signal;
    if (forwarded.has(signal) || child === null || child.exitCode !== null) return;
    forwarded.add(signal);
    child.kill(signal);
  });
}

/** Runs `node args…` as the current child; resolves with its exit code. */
function run(args, options) {
  child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', ...options });
  return new Promise((resolveExit) => {
    child.on('error', (error) => {
      process.stderr.write(`demo: could not start node: ${error.message}\n`);
      resolveExit(1);
    });
    child.on('exit', (code, signal) => {
      // Killed by a signal: exit as a shell reports it, 128 + its number.
      resolveExit(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}

if (process.env.TORSION_DEMO_SKIP_BUILD !== '1') {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const code = await run([tsc, '-b'], {});
  if (code !== 0 || stopping !== null) process.exit(code === 0 ? 1 : code);
}

// Its own process group (detached), so a Ctrl-C in a terminal, which signals
// the whole foreground group, reaches the server once, through this launcher.
const torsion = join(root, 'packages', 'runner', 'dist', 'bin', 'torsion.js');
process.exitCode = await run([torsion, ...process.argv.slice(2)], {
  detached: process.platform !== 'win32',
});
