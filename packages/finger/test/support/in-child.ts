// Runs a snippet of test code in a child Node process with a time limit: for
// code that, if it regressed, would block this process for good (a
// synchronous open of a FIFO, a read of /dev/zero), past any mocha timeout.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');

/** The `file:` URL of a module under packages/finger/src, for `import` in a snippet. */
export function sourceUrl(path: string): string {
  return pathToFileURL(resolve(here, '../../src', path)).href;
}

/**
 * Runs `script` (an ES module, TypeScript sources importable through tsx)
 * and gives what it printed.
 * @throws Error if it did not finish within `seconds` or exited non-zero.
 */
// Short: a regression that reads /dev/zero grows by about a GiB a second.
export function inChild(script: string, seconds = 5): string {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: repoRoot, encoding: 'utf8', timeout: seconds * 1000 },
  );
  if (child.signal !== null) {
    throw new Error(`the child was killed by ${child.signal}: it hung for ${seconds} s`);
  }
  if (child.status !== 0) {
    throw new Error(`the child exited with ${String(child.status)}: ${child.stderr}`);
  }
  return child.stdout.trim();
}
