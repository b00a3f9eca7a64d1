// getReactor()/installReactor(): one default reactor per process.
import { expect } from 'chai';
import { getReactor, installReactor } from '../src/default-reactor.js';
import { ReactorAlreadyInstalledError } from '../src/errors.js';
import type { IReactor } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';

// The slot is process-wide (on globalThis); each test starts from an empty one.
const SLOT = Symbol.for('@torsion/core/default-reactor');
const holder = globalThis as unknown as Record<symbol, unknown>;

describe('default reactor', () => {
  let saved: unknown;

  beforeEach(() => {
    saved = holder[SLOT];
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- resetting a process-wide slot
    delete holder[SLOT];
  });

  afterEach(() => {
    holder[SLOT] = saved;
  });

  it('creates one NodeReactor lazily and returns it every time', () => {
    const first = getReactor();
    expect(first).to.be.instanceOf(NodeReactor);
    expect(getReactor()).to.equal(first);
  });

  it('returns the installed reactor', () => {
    const mine = new NodeReactor({ installSignalHandlers: false });
    installReactor(mine);
    expect(getReactor()).to.equal(mine);
  });

  it('refuses to install once the default was used, or twice', () => {
    getReactor();
    expect(() => {
      installReactor(new NodeReactor());
    }).to.throw(ReactorAlreadyInstalledError, /already in use/);
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- resetting a process-wide slot
    delete holder[SLOT];
    installReactor({} as IReactor);
    expect(() => {
      installReactor({} as IReactor);
    }).to.throw(ReactorAlreadyInstalledError, /already installed/);
  });
});
