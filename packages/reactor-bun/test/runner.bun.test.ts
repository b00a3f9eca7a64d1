// The `torsion` runner's reactor choice under Bun: BunReactor by default and
// for `--reactor bun`, built with no arguments; NodeReactor when asked.
import { expect } from 'chai';
import { NodeReactor } from '@torsion/core';
import { createReactor, defaultReactorName } from '@torsion/runner';
// The runner imports the built package, so the class to compare with is that one.
import { BunReactor } from '@torsion/reactor-bun';

describe('the torsion runner on Bun', () => {
  it('serves on BunReactor by default under Bun', async () => {
    expect(defaultReactorName()).to.equal('bun');
    expect(await createReactor(undefined, process.cwd())).to.be.instanceOf(BunReactor);
  });

  it('builds BunReactor for --reactor bun and NodeReactor for --reactor node', async () => {
    expect(await createReactor('bun', process.cwd())).to.be.instanceOf(BunReactor);
    expect(await createReactor('node', process.cwd())).to.be.instanceOf(NodeReactor);
  });
});
