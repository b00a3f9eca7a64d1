// @torsion/threads is installable alone: `npm pack` it with @torsion/core,
// install both tarballs into a fresh project outside the monorepo
// (piscina from npm's cache or the registry), type-check a TypeScript user, and run a
// script whose worker module calls callFromThread and whose pool stops with
// the reactor. Needs the packages built (`npx tsc -b`).
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  skipWithoutNpm,
  packAndInstall,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const WORK = `
import { callFromThread } from '@torsion/threads';
export function square(n, reporter) {
  callFromThread(reporter, 'record', n);
  return n * n;
}
`;

const REPORTER = `
export const seen = [];
export function record(n) { seen.push(n); }
`;

const SCRIPT = `
import { NodeReactor } from '@torsion/core';
import { getThreadPool, ThreadPoolStoppedError } from '@torsion/threads';

const reporter = new URL('./reporter.mjs', import.meta.url).href;
const { seen } = await import(reporter);
const reactor = new NodeReactor({ installSignalHandlers: false });
const pool = getThreadPool(reactor);
reactor.callWhenRunning(async () => {
  const squares = await Promise.all([2, 3].map((n) => pool.deferToThread(new URL('./work.mjs', import.meta.url), 'square', n, reporter)));
  reactor.stop();
  globalThis.squares = squares;
});
await reactor.run();
const after = await pool.deferToThread(new URL('./work.mjs', import.meta.url), 'square', 4, reporter).then(
  () => 'ran',
  (err) => (err instanceof ThreadPoolStoppedError ? 'stopped' : String(err)),
);
process.stdout.write(JSON.stringify({ squares: globalThis.squares, seen: [...seen].sort(), after }));
`;

const TYPED = `
import { NodeReactor, type Deferred } from '@torsion/core';
import { ThreadPool, callFromThread, deferToThread, type ModulePath, type ThreadPoolOptions } from '@torsion/threads';

const options: ThreadPoolOptions = { maxThreads: 2, idleTimeout: 1, reactor: new NodeReactor() };
const pool = new ThreadPool(options);
const where: ModulePath = new URL('./work.mjs', import.meta.url);
const d: Deferred<number> = pool.deferToThread<number>(where, 'square', 3);
const e: Deferred<string> = deferToThread<string>(where, 'square', 3);
callFromThread((n: number) => n + 1, 1);
export const parts = [d, e, pool.maxThreads];
`;

describe('@torsion/threads packed and installed alone', function () {
  this.timeout(180_000);
  let project: InstalledProject | null = null;

  before(skipWithoutNpm);

  after(() => project?.remove());

  it('installs from the two tarballs with piscina, type-checks, and runs deferToThread', () => {
    project = packAndInstall(['core', 'threads']);
    expect(project.tarballs).to.deep.equal(['torsion-core-0.1.0.tgz', 'torsion-threads-0.1.0.tgz']);
    project.write({
      'check.mjs': SCRIPT,
      'work.mjs': WORK,
      'reporter.mjs': REPORTER,
      'typed.ts': TYPED,
    });
    project.typeCheck(['typed.ts']);
    expect(JSON.parse(project.node(['check.mjs'], { timeoutMs: 20_000 }))).to.deep.equal({
      squares: [4, 9],
      seen: [2, 3],
      after: 'stopped',
    });
    const installed = readdirSync(join(project.dir, 'node_modules')).filter(
      (d) => !d.startsWith('.'),
    );
    expect(installed).to.include.members(['@torsion', 'piscina']);
    expect(readdirSync(join(project.dir, 'node_modules', '@torsion'))).to.deep.equal([
      'core',
      'threads',
    ]);
  });
});
