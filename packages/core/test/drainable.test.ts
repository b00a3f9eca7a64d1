import { expect } from 'chai';

import { Protocol, isDrainable } from '../src/index.js';

describe('isDrainable', () => {
  it('is true for a protocol with serverDraining(), false for one without', () => {
    class Polite extends Protocol {
      serverDraining(deadline: number): void {
        void deadline;
        this.transport.loseConnection();
      }
    }
    expect(isDrainable(new Polite())).to.equal(true);
    expect(isDrainable(new Protocol())).to.equal(false);
    expect(isDrainable({ serverDraining: 'soon' })).to.equal(false);
  });
});
