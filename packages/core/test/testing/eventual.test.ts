// Tests for src/testing/eventual.ts: a settle-once value that never rejects.
import { expect } from 'chai';

import { Failure } from '../../src/failure.js';
import { Eventual } from '../../src/testing/eventual.js';

describe('Eventual', () => {
  it('is awaited like a promise and reports its value once called', async () => {
    const e = new Eventual<number>();
    expect(e.called).to.equal(false);
    expect(() => e.value).to.throw(/before it was called/);
    e.callback(7);
    expect(e.called).to.equal(true);
    expect(e.value).to.equal(7);
    expect(await e).to.equal(7);
    expect(await e.promise).to.equal(7);
  });

  it('keeps the first value: later callbacks are ignored', async () => {
    const e = new Eventual<string>();
    e.callback('first');
    e.callback('second');
    expect(e.value).to.equal('first');
    expect(await e).to.equal('first');
  });

  it('holds a Failure as a plain value: it fulfils with it instead of rejecting', async () => {
    const failure = new Failure(new RangeError('boom'));
    const e = new Eventual<Failure>();
    e.callback(failure);
    expect(await e).to.equal(failure);
  });

  it('never produces an unhandled rejection, even when nobody waits for it', async () => {
    let unhandled = 0;
    const count = (): void => {
      unhandled++;
    };
    process.on('unhandledRejection', count);
    try {
      new Eventual<Failure>().callback(new Failure(new Error('ignored')));
      void new Eventual<void>(); // never called
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', count);
    }
    expect(unhandled).to.equal(0);
  });

  it('chains with then, and waits until called', async () => {
    const e = new Eventual<number>();
    const doubled = e.then((n) => n * 2);
    let settled = false;
    void doubled.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).to.equal(false);
    e.callback(21);
    expect(await doubled).to.equal(42);
  });
});
