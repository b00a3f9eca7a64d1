// Runs the example shown in docs/echo.md over real loopback sockets, and
// checks that the page shows the file unchanged.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeReactor } from '@torsion/core';
import { roundTrip } from '../examples/round-trip.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('examples/round-trip (docs/echo.md)', function () {
  this.timeout(20_000);

  it('gets the bytes back from Echo and the complete lines back from LineEcho', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const result = await roundTrip(reactor);
    expect(result).to.deep.equal({ bytes: 'any bytes at all', lines: 'first\r\nsecond\r\n' });
  });

  it('is shown verbatim in docs/echo.md', () => {
    const path = 'packages/echo/examples/round-trip.ts';
    const doc = readFileSync(join(repoRoot, 'docs', 'echo.md'), 'utf8');
    const block = new RegExp(`<!-- listing: ${path} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`).exec(
      doc,
    );
    expect(block?.[1], 'a ts block after the listing marker').to.equal(
      readFileSync(join(repoRoot, path), 'utf8'),
    );
  });
});
