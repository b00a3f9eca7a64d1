/**
 * Lifecycle: `run()`/`stop()` and their errors, `callWhenRunning`, and the
 * startup and shutdown system event triggers with the Deferreds they return.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import {
  Deferred,
  deferLater,
  fail,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from '@torsion/core';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import {
  Eventual,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Registers the lifecycle tests. */
export function lifecycleTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, { start: false, ...spec }, body);
  };

  /** Resolves once the `callWhenRunning` calls have fired. */
  const whenRunning = (h: Harness): Eventual<void> => {
    const running = new Eventual<void>();
    h.reactor.callWhenRunning(() => {
      running.callback();
    });
    return running;
  };

  describe('lifecycle', () => {
    test('run() resolves only after stop() was called and shutdown has finished', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after shutdown'));
      const running = whenRunning(h);
      const done = h.runReactor();
      let resolved = false;
      void done.then(() => {
        resolved = true;
      });
      await running;
      expect(reactor.running).to.equal(true);
      await h.wait(0.02);
      expect(resolved, 'run() resolved before stop()').to.equal(false);
      reactor.stop();
      await done;
      expect(seen).to.deep.equal(['after shutdown']);
      expect(reactor.running).to.equal(false);
    });

    test('stop() throws ReactorNotRunning on a reactor that was never started', (h) => {
      expect(() => {
        h.reactor.stop();
      }).to.throw(ReactorNotRunning);
      expect(h.reactor.running).to.equal(false);
    });

    test('run() throws ReactorAlreadyRunning while the reactor runs', async (h) => {
      await h.start();
      expect(() => h.reactor.run()).to.throw(ReactorAlreadyRunning);
      expect(h.reactor.running).to.equal(true);
    });

    test('stop() throws ReactorNotRunning when called again, during shutdown and after it', async (h) => {
      await h.start();
      h.reactor.stop();
      expect(() => {
        h.reactor.stop();
      }).to.throw(ReactorNotRunning);
      await h.done;
      expect(() => {
        h.reactor.stop();
      }).to.throw(ReactorNotRunning);
    });

    test('a stopped reactor cannot be restarted: run(), listenTCP and connectTCP throw ReactorNotRestartable', async (h) => {
      await h.start();
      h.reactor.stop();
      await h.done;
      expect(() => h.reactor.run()).to.throw(ReactorNotRestartable);
      expect(() =>
        h.reactor.listenTCP(0, new RecordingFactory(() => new RecordingProtocol()), {
          interface: LOOPBACK,
        }),
      ).to.throw(ReactorNotRestartable);
      expect(() =>
        h.reactor.connectTCP(
          LOOPBACK,
          9,
          new RecordingClientFactory(() => new RecordingProtocol()),
        ),
      ).to.throw(ReactorNotRestartable);
    });

    test('fires startup triggers before, during, after (with callWhenRunning calls among after), running from during on', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      const state = () => (reactor.running ? 'running' : 'not running');
      reactor.callWhenRunning((tag: string) => seen.push(`callWhenRunning ${tag} ${state()}`), 'x');
      reactor.addSystemEventTrigger('after', 'startup', () => seen.push(`after ${state()}`));
      reactor.addSystemEventTrigger('during', 'startup', () => seen.push(`during ${state()}`));
      reactor.addSystemEventTrigger('before', 'startup', () => seen.push(`before ${state()}`));
      await h.start();
      expect(seen).to.deep.equal([
        'before not running',
        'during running',
        'callWhenRunning x running',
        'after running',
      ]);
    });

    test('has run every synchronous startup trigger and callWhenRunning call when run() returns', (h) => {
      const seen: string[] = [];
      h.reactor.addSystemEventTrigger('before', 'startup', () => seen.push('before'));
      h.reactor.callWhenRunning(() => seen.push('callWhenRunning'));
      h.reactor.addSystemEventTrigger('after', 'startup', () => seen.push('after'));
      void h.runReactor();
      expect(seen).to.deep.equal(['before', 'callWhenRunning', 'after']);
      expect(h.reactor.running).to.equal(true);
    });

    test('callWhenRunning on a running reactor calls the function soon, not at once, with its arguments', async (h) => {
      await h.start();
      const ran = new Eventual<string>();
      h.reactor.callWhenRunning(
        (a: string, b: number) => {
          ran.callback(`${a} ${String(b)}`);
        },
        'later',
        1,
      );
      expect(ran.called, 'called synchronously').to.equal(false);
      expect(await ran).to.equal('later 1');
    });

    test('startup waits for a Deferred returned by a before-startup trigger before the during phase', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      reactor.addSystemEventTrigger('before', 'startup', () => {
        seen.push('before');
        return deferLater(reactor, 0.02, () => {
          seen.push('before settled');
        });
      });
      reactor.addSystemEventTrigger('during', 'startup', () => seen.push('during'));
      reactor.addSystemEventTrigger('after', 'startup', () => seen.push('after'));
      await h.start();
      expect(seen).to.deep.equal(['before', 'before settled', 'during', 'after']);
    });

    test('shutdown fires before, during and after triggers in order with their arguments, then run() resolves', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      const push = (what: string, n: number) => seen.push(`${what} ${String(n)}`);
      reactor.addSystemEventTrigger('after', 'shutdown', push, 'after', 3);
      reactor.addSystemEventTrigger('during', 'shutdown', push, 'during', 2);
      reactor.addSystemEventTrigger('before', 'shutdown', push, 'before', 1);
      await h.start();
      expect(seen).to.deep.equal([]);
      reactor.stop();
      await h.done;
      expect(seen).to.deep.equal(['before 1', 'during 2', 'after 3']);
    });

    test('shutdown waits for the Deferreds and promises its triggers return, phase by phase', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      reactor.addSystemEventTrigger('before', 'shutdown', () => {
        seen.push('before (Deferred)');
        const d = new Deferred<undefined>();
        reactor.callLater(0.03, () => {
          seen.push('before Deferred fired');
          d.callback(undefined);
        });
        return d;
      });
      reactor.addSystemEventTrigger('before', 'shutdown', async () => {
        // Recorded by the delayed call itself: a continuation after `await`
        // could run after a later call that came due in the same turn.
        await deferLater(reactor, 0.01, () => seen.push('before promise settled'));
      });
      reactor.addSystemEventTrigger('during', 'shutdown', () => {
        seen.push('during');
        return deferLater(reactor, 0.01, () => {
          seen.push('during Deferred fired');
        });
      });
      reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after'));
      await h.start();
      reactor.stop();
      expect(reactor.running, 'still running while shutdown triggers wait').to.equal(true);
      await h.done;
      expect(seen).to.deep.equal([
        'before (Deferred)',
        'before promise settled',
        'before Deferred fired',
        'during',
        'during Deferred fired',
        'after',
      ]);
    });

    test('a removed trigger does not run, also when an earlier phase removes it', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      const early = reactor.addSystemEventTrigger('before', 'startup', () => seen.push('early'));
      const late = reactor.addSystemEventTrigger('during', 'shutdown', () => seen.push('late'));
      reactor.addSystemEventTrigger('before', 'shutdown', () => {
        seen.push('before shutdown');
        reactor.removeSystemEventTrigger(late);
      });
      reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after shutdown'));
      reactor.removeSystemEventTrigger(early);
      await h.start();
      reactor.stop();
      await h.done;
      expect(seen).to.deep.equal(['before shutdown', 'after shutdown']);
    });

    test('removeSystemEventTrigger throws for an id it does not know or already removed', (h) => {
      const id = h.reactor.addSystemEventTrigger('before', 'shutdown', () => undefined);
      h.reactor.removeSystemEventTrigger(id);
      expect(() => {
        h.reactor.removeSystemEventTrigger(id);
      }).to.throw(Error);
      expect(() => {
        h.reactor.removeSystemEventTrigger(Symbol('never added'));
      }).to.throw(Error);
    });

    test(
      'a trigger that throws or fails is logged with its stack and the sequence continues',
      async (h) => {
        const { reactor } = h;
        const seen: string[] = [];
        reactor.addSystemEventTrigger('before', 'startup', () => {
          throw new Error('startup trouble');
        });
        reactor.addSystemEventTrigger('during', 'startup', () => seen.push('during startup'));
        reactor.addSystemEventTrigger('before', 'shutdown', () => {
          throw new Error('sync trouble');
        });
        reactor.addSystemEventTrigger('before', 'shutdown', () =>
          Promise.reject(new Error('async trouble')),
        );
        reactor.addSystemEventTrigger('during', 'shutdown', () =>
          fail(new Error('deferred trouble')),
        );
        reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after shutdown'));
        await h.start();
        reactor.stop();
        await h.done;
        expect(seen).to.deep.equal(['during startup', 'after shutdown']);
        const failures = h.logs.failures();
        expect(failures.map((f) => f.getErrorMessage())).to.have.members([
          'startup trouble',
          'sync trouble',
          'async trouble',
          'deferred trouble',
        ]);
        for (const failure of failures) {
          expect(failure.getTraceback()).to.match(/trouble[\s\S]*\bat\b/);
        }
      },
      { logsErrors: true },
    );

    test('stop() during startup begins shutdown once startup has finished', async (h) => {
      const { reactor } = h;
      const seen: string[] = [];
      reactor.addSystemEventTrigger('during', 'startup', () => {
        seen.push('during startup');
        reactor.stop();
      });
      reactor.addSystemEventTrigger('after', 'startup', () => seen.push('after startup'));
      reactor.addSystemEventTrigger('before', 'shutdown', () => seen.push('before shutdown'));
      reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after shutdown'));
      await h.runReactor();
      expect(seen).to.deep.equal([
        'during startup',
        'after startup',
        'before shutdown',
        'after shutdown',
      ]);
      expect(reactor.running).to.equal(false);
    });
  });
}
