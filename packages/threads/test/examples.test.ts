// Runs the example shown in docs/threads.md, and checks that the page shows
// the files unchanged.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeReactor } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import { countPrimesInThreads } from '../examples/count-primes.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('examples/count-primes (docs/threads.md)', function () {
  this.timeout(10_000);

  it('counts primes in worker threads and reports progress on the reactor', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const logs = LogCapture.start();
    let counts: number[];
    try {
      counts = await countPrimesInThreads(reactor, [1_000, 100_000]);
    } finally {
      logs.stop();
    }
    expect(counts).to.deep.equal([168, 9_592]);
    const progress = logs.messages('info').filter((m) => m.startsWith('primes below'));
    expect(progress.filter((m) => m.startsWith('primes below 1000:'))).to.deep.equal([
      'primes below 1000: 25%',
      'primes below 1000: 50%',
      'primes below 1000: 75%',
      'primes below 1000: 100%',
    ]);
    expect(progress.filter((m) => m.startsWith('primes below 100000:'))).to.have.length(4);
  });

  for (const path of [
    'packages/threads/examples/count-primes.ts',
    'packages/threads/examples/primes.ts',
    'packages/threads/examples/progress.ts',
  ]) {
    it(`${path} is shown verbatim in docs/threads.md`, () => {
      const doc = readFileSync(join(repoRoot, 'docs', 'threads.md'), 'utf8');
      const block = new RegExp(
        `<!-- listing: ${path} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`,
      ).exec(doc);
      expect(block?.[1], 'a ts block after the listing marker').to.equal(
        readFileSync(join(repoRoot, path), 'utf8'),
      );
    });
  }
});
