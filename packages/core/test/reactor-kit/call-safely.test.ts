// callSafely: user code's exceptions are logged with their stack, never thrown.
import { expect } from 'chai';
import { callMethodSafely, callSafely, THREW } from '../../src/reactor-kit/call-safely.js';
import { Logger } from '../../src/log.js';
import { LogCapture } from '../../src/testing/log-capture.js';

describe('callSafely / callMethodSafely', () => {
  const log = new Logger('torsion.test');

  it('returns what a method returns, with `this` and arguments passed through', () => {
    const target = {
      base: 10,
      add(this: { base: number }, n: number): number {
        return this.base + n;
      },
    };
    expect(callMethodSafely(log, 'adding', {}, target, 'add', 5)).to.equal(15);
    expect(callSafely(log, 'adding', {}, (a: number, b: number) => a * b, 6, 7)).to.equal(42);
  });

  it('logs an exception with its stack and fields and returns THREW', () => {
    const logs = LogCapture.start();
    try {
      const result = callSafely(log, 'Unhandled error in hook', { peer: '1.2.3.4:5' }, () => {
        throw new Error('bad hook');
      });
      expect(result).to.equal(THREW);
    } finally {
      logs.stop();
    }
    const [event] = logs.events;
    expect(event?.message).to.equal('Unhandled error in hook');
    expect(event?.level).to.equal('error');
    expect(event?.fields.peer).to.equal('1.2.3.4:5');
    expect(logs.failures()[0]?.getTraceback()).to.match(/bad hook[\s\S]*at /);
  });
});
