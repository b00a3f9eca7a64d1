// docs/conformance.md shows the NodeReactor conformance run as its example:
// check that the page shows that file unchanged, so the example is the one
// the test suite runs.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('docs/conformance.md', () => {
  it('shows test/node-reactor.conformance.integration.test.ts verbatim', () => {
    const path = 'packages/reactor-conformance/test/node-reactor.conformance.integration.test.ts';
    const doc = readFileSync(join(repoRoot, 'docs', 'conformance.md'), 'utf8');
    const block = new RegExp(`<!-- listing: ${path} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`).exec(
      doc,
    );
    expect(block?.[1], 'a ts block after the listing marker').to.equal(
      readFileSync(join(repoRoot, path), 'utf8'),
    );
  });
});
