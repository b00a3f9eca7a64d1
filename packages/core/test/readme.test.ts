// The package README's entry-point table names every value that
// @torsion/core/testing exports, so a new test double cannot go unlisted.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as testing from '../src/testing/index.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('packages/core/README.md', () => {
  it('lists every value @torsion/core/testing exports', () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| `@torsion/core/testing`'));
    expect(row, 'a table row for @torsion/core/testing').to.be.a('string');
    const missing = Object.keys(testing).filter((name) => !row?.includes(`\`${name}\``));
    expect(missing, 'exports the README does not name').to.deep.equal([]);
  });
});
