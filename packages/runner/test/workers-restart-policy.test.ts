// RestartPolicy: a crashed worker is restarted after a delay that doubles
// with each crash in the window, up to a ceiling; `limit` crashes within the
// window is a crash loop and stops the restarts for good; old crashes age out.
import { Clock } from '@torsion/core/testing';
import { expect } from 'chai';
import { DEFAULT_RESTART_POLICY, RestartPolicy } from '../src/workers/restart-policy.js';

describe('RestartPolicy', () => {
  it('restarts the first crash after the initial delay', () => {
    const policy = new RestartPolicy(new Clock());
    expect(policy.crashed()).to.deep.equal({ restart: true, delay: 0.1, recentCrashes: 1 });
    expect(policy.stopped).to.equal(false);
  });

  it('doubles the delay with each crash in the window, up to maxDelay', () => {
    const clock = new Clock();
    const policy = new RestartPolicy(clock, { limit: 100, initialDelay: 1, maxDelay: 5 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = policy.crashed();
      if (decision.restart) delays.push(decision.delay);
      clock.advance(0.5);
    }
    expect(delays).to.deep.equal([1, 2, 4, 5, 5]);
  });

  it('stops restarting at the limit-th crash within the window, and stays stopped', () => {
    const clock = new Clock();
    const policy = new RestartPolicy(clock);
    const decisions = [];
    for (let i = 0; i < DEFAULT_RESTART_POLICY.limit; i++) {
      decisions.push(policy.crashed());
      clock.advance(1);
    }
    expect(decisions.slice(0, -1).every((d) => d.restart)).to.equal(true);
    expect(decisions.at(-1)).to.deep.equal({ restart: false, recentCrashes: 5 });
    expect(policy.stopped).to.equal(true);
    clock.advance(3600);
    expect(policy.crashed().restart).to.equal(false);
  });

  it('forgets crashes older than the window: a crash after a quiet spell restarts at once', () => {
    const clock = new Clock();
    const policy = new RestartPolicy(clock, { limit: 3, windowSeconds: 60 });
    policy.crashed();
    clock.advance(30);
    expect(policy.crashed()).to.deep.include({ restart: true, recentCrashes: 2 });
    clock.advance(31); // the first crash is now 61 s old
    expect(policy.crashed()).to.deep.equal({ restart: true, delay: 0.2, recentCrashes: 2 });
    clock.advance(120);
    expect(policy.crashed()).to.deep.equal({ restart: true, delay: 0.1, recentCrashes: 1 });
  });

  it('rejects settings out of range, naming the setting', () => {
    const clock = new Clock();
    expect(() => new RestartPolicy(clock, { limit: 0 })).to.throw(RangeError, /restart limit/);
    expect(() => new RestartPolicy(clock, { limit: 1.5 })).to.throw(RangeError, /restart limit/);
    expect(() => new RestartPolicy(clock, { windowSeconds: -1 })).to.throw(
      RangeError,
      /windowSeconds/,
    );
    expect(() => new RestartPolicy(clock, { maxDelay: Number.NaN })).to.throw(
      RangeError,
      /maxDelay/,
    );
  });
});
