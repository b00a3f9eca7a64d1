// `npm ci` on a fresh clone links the `torsion` and `torsion-finger` commands
// into node_modules/.bin, as the docs' `npx torsion …` commands need: each bin
// is a committed shim (bin/*.js) that exists before anything is built.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const COMMANDS = [
  { name: 'torsion', shim: 'packages/runner/bin/torsion.js', help: /^Usage: torsion /m },
  {
    name: 'torsion-finger',
    shim: 'packages/finger/bin/torsion-finger.js',
    help: /torsion-finger/,
  },
];

describe('the commands npm links into node_modules/.bin', function () {
  this.timeout(20_000);

  for (const { name, shim, help } of COMMANDS) {
    it(`links ${name} to the committed shim ${shim}, which runs --help`, () => {
      const link = join(repoRoot, 'node_modules', '.bin', name);
      expect(existsSync(link), `${link} is missing: npm did not link the bin`).to.equal(true);
      expect(realpathSync(link)).to.equal(realpathSync(join(repoRoot, shim)));
      const output = execFileSync(link, ['--help'], { cwd: repoRoot, encoding: 'utf8' });
      expect(output).to.match(help);
    });
  }
});
