// The whole test run behind `npm run test:unit`: every package's tests on Node
// (with coverage), then the Bun reactor's tests and the conformance suite on
// Bun. Each run's reporter (summary-reporter.cjs) appends its counts to a tally
// file; this prints their sum as the one summary line CI reads, and exits
// non-zero if any run failed, even one that stopped before reporting. Both runs
// get a descriptor limit of at most DESCRIPTOR_LIMIT, so the conformance suite's
// descriptor-exhaustion section can reach it.
//
//   node scripts/run-tests.mjs [--node-only | --bun-only]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/**
 * The open-file limit of both runs, when the current one is higher: low
 * enough for the conformance suite to use every descriptor up (it gives up,
 * pending, past 8192), high enough for the most any test holds at once (1000
 * loopback connections, both ends in the same process: about 2000). Node and
 * Bun raise their soft limit to the hard one as they start, so it is the hard
 * limit that has to come down.
 */
const DESCRIPTOR_LIMIT = 4096;

/**
 * `command args…` under `ulimit -n DESCRIPTOR_LIMIT`, via bash; unchanged
 * where there is no bash to set it (Windows).
 */
function withDescriptorLimit(command, args) {
  if (process.platform === 'win32') return { command, args };
  const script =
    'hard=$(ulimit -Hn); ' +
    `if [ "$hard" = unlimited ] || [ "$hard" -gt ${DESCRIPTOR_LIMIT} ]; then ` +
    `ulimit -n ${DESCRIPTOR_LIMIT}; fi; exec "$@"`;
  return { command: 'bash', args: ['-c', script, 'bash', command, ...args] };
}

const NODE_SPECS = [
  'packages/*/test/**/*.test.ts',
  'examples/test/**/*.test.ts',
  'examples/src/**/*.test.ts',
];

const runs = [
  {
    name: 'Node',
    command: bin('c8'),
    // Bun-only tests are named *.bun.test.ts; they run in the Bun pass below.
    args: ['mocha', ...NODE_SPECS, '--ignore', 'packages/*/test/**/*.bun.test.ts'],
  },
  {
    name: 'Bun',
    command: bin('bun'),
    args: [
      join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
      '--config',
      'packages/reactor-bun/.mocharc.bun.json',
    ],
  },
];

const only = process.argv[2];
const selected = runs.filter(
  (run) =>
    only === undefined ||
    (only === '--node-only' && run.name === 'Node') ||
    (only === '--bun-only' && run.name === 'Bun'),
);

const tallyDir = mkdtempSync(join(tmpdir(), 'torsion-tally-'));
const tallyFile = join(tallyDir, 'tally.jsonl');
let failedRuns = 0;
try {
  for (const run of selected) {
    process.stdout.write(`\n== ${run.name} tests: ${run.command} ${run.args.join(' ')}\n`);
    const limited = withDescriptorLimit(run.command, run.args);
    const result = spawnSync(limited.command, limited.args, {
      cwd: root,
      stdio: 'inherit',
      // c8 starts `mocha` by name: make the repository's own tools findable
      // when this script is run directly rather than through npm.
      env: {
        ...process.env,
        PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
        TORSION_TEST_TALLY: tallyFile,
      },
    });
    if (result.error !== undefined) {
      process.stdout.write(`${run.name} tests could not start: ${result.error.message}\n`);
      failedRuns++;
    } else if (result.status !== 0) {
      process.stdout.write(
        `${run.name} tests exited with ${String(result.status ?? result.signal)}\n`,
      );
      failedRuns++;
    }
  }
  let lines = [];
  try {
    lines = readFileSync(tallyFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    // No run reported: every one of them failed before its tests ended.
  }
  const total = { passes: 0, failures: 0, pending: 0 };
  for (const line of lines) {
    const counts = JSON.parse(line);
    total.passes += counts.passes;
    total.failures += counts.failures;
    total.pending += counts.pending;
  }
  // A run that died without reporting still counts as a failure.
  const reported = lines.length;
  const failures = total.failures + Math.max(0, selected.length - reported);
  const skipped = total.pending > 0 ? `, ${total.pending} skipped` : '';
  process.stdout.write(`\n${total.passes} passed, ${failures} failed${skipped}\n`);
  process.exitCode = failedRuns > 0 || failures > 0 ? 1 : 0;
} finally {
  rmSync(tallyDir, { recursive: true, force: true });
}
