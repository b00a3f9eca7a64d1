/**
 * One test's world: a fresh reactor, a log capture, a guard that fails the
 * test once too much reactor time has passed, and helpers that wait only on
 * what the reactor fires (never on the wall clock), so the same test runs on
 * a real reactor and on one whose time is virtual.
 * @module
 */
import { it } from 'mocha';
import { deferLater, ReactorNotRunning } from '@torsion/core';
import type {
  IConnector,
  IDelayedCall,
  IListeningPort,
  IProtocolFactory,
  IReactor,
  LogEvent,
} from '@torsion/core';
import {
  LogCapture,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { ReactorCapability } from '../options.js';
import type { SuiteSettings } from './settings.js';

/** Every test listens and connects here, and only here. */
export const LOOPBACK = '127.0.0.1';

/** How a test wants its world. */
export interface TestSpec {
  /** Capabilities the test needs; it is pending when the reactor lacks one. */
  readonly needs?: readonly ReactorCapability[];
  /** Start the reactor (and wait until it runs) before the body. Default true. */
  readonly start?: boolean;
  /** The test expects errors to be logged; otherwise any error-level event fails it. */
  readonly logsErrors?: boolean;
}

/** A connected client and server, both on the reactor under test. */
export interface Pair<S extends RecordingProtocol, C extends RecordingProtocol> {
  readonly server: S;
  readonly client: C;
  readonly serverFactory: RecordingFactory<S>;
  readonly clientFactory: RecordingClientFactory<C>;
  readonly connector: IConnector;
  readonly listening: IListeningPort;
  readonly port: number;
}

/** Registers one mocha test that runs `body` in a fresh {@link Harness}. */
export function reactorTest(
  settings: SuiteSettings,
  title: string,
  spec: TestSpec,
  body: (h: Harness) => Promise<void> | void,
): void {
  const missing = (spec.needs ?? []).filter((c) => settings.skip.has(c));
  if (missing.length > 0) {
    it.skip(`${title} [reactor lacks: ${missing.join(', ')}]`);
    return;
  }
  const known = settings.knownFailures.get(title);
  if (known !== undefined) {
    settings.matchedKnownFailures.add(title);
    it(`${title} [known failure: ${known}]`, async function () {
      this.timeout(settings.mochaTimeoutMs);
      try {
        await new Harness(settings).run(spec, body);
      } catch {
        return;
      }
      throw new Error(`passes now: remove ${JSON.stringify(title)} from knownFailures`);
    });
    return;
  }
  it(title, async function () {
    this.timeout(settings.mochaTimeoutMs);
    try {
      await new Harness(settings).run(spec, body);
    } catch (err) {
      // Reported as pending, with the reason in the title: not a pass that checked nothing.
      if (err instanceof NotTestableHere) {
        if (this.test !== undefined) {
          this.test.title += ` [not testable on this machine: ${err.message}]`;
        }
        this.skip();
      }
      throw err;
    }
  });
}

/**
 * Thrown by a test body when the machine (not the reactor) cannot do what the
 * test needs, e.g. multicast on a container's loopback: the test is reported
 * pending with the reason, never as a pass.
 */
export class NotTestableHere extends Error {
  override readonly name = 'NotTestableHere';
}

/** The reactor under test and the tools a test uses on it. */
export class Harness {
  readonly reactor: IReactor;
  /** Everything logged during the test, including the reactor's construction and shutdown. */
  readonly logs: LogCapture;
  readonly #settings: SuiteSettings;
  readonly #guard: IDelayedCall;
  readonly #expired: Promise<never>;
  #expire!: (error: Error) => void;
  #done: Promise<void> | null = null;

  constructor(settings: SuiteSettings) {
    this.#settings = settings;
    this.logs = LogCapture.start();
    try {
      this.reactor = settings.makeReactor();
      this.#expired = new Promise<never>((_, reject) => {
        this.#expire = reject;
      });
      // Observed here so an expiry nobody is racing against is not an unhandled rejection.
      this.#expired.catch(() => undefined);
      const seconds = settings.guardSeconds;
      this.#guard = this.reactor.callLater(seconds, () => {
        this.#expire(
          new Error(`test still running after ${String(seconds)} seconds of reactor time`),
        );
      });
    } catch (err) {
      this.logs.stop();
      throw err;
    }
  }

  /** The guard's delayed call, which {@link IReactorTime.getDelayedCalls} also lists. */
  get guard(): IDelayedCall {
    return this.#guard;
  }

  /** `getDelayedCalls()` without the guard. */
  delayedCalls(): IDelayedCall[] {
    return this.reactor.getDelayedCalls().filter((c) => c !== this.#guard);
  }

  /** Runs the body, then always stops and cleans up; the first failure wins. */
  async run(spec: TestSpec, body: (h: Harness) => Promise<void> | void): Promise<void> {
    let failure: { error: unknown } | null = null;
    try {
      if (spec.start !== false) await this.#bounded(this.start());
      await this.#bounded(Promise.resolve().then(() => body(this)));
    } catch (error) {
      failure = { error };
    }
    try {
      await this.#teardown();
    } catch (error) {
      failure ??= { error };
    } finally {
      this.logs.stop();
    }
    if (failure !== null) throw failure.error;
    if (spec.logsErrors !== true) {
      const errors = this.errors();
      if (errors.length > 0) {
        throw new Error(
          `unexpected errors were logged:\n${errors.map((e) => describeEvent(e)).join('\n')}`,
        );
      }
    }
  }

  /**
   * Calls `reactor.run()` and resolves once the reactor runs: when the
   * `callWhenRunning` calls fire. {@link Harness.done} is then what `run()` returned.
   */
  async start(): Promise<void> {
    const running = new Promise<void>((resolve) => {
      this.reactor.callWhenRunning(resolve);
    });
    void this.runReactor();
    await running;
  }

  /** The promise `run()` returned. @throws Error if the test has not run the reactor. */
  get done(): Promise<void> {
    if (this.#done === null) throw new Error('the reactor was not run');
    return this.#done;
  }

  /** Calls `reactor.run()` and remembers the promise so teardown can wait for it. */
  runReactor(): Promise<void> {
    const done = this.reactor.run();
    this.#done = done;
    return done;
  }

  /** Waits `seconds` of reactor time (a `deferLater`). */
  async wait(seconds: number): Promise<void> {
    await deferLater(this.reactor, seconds);
  }

  /** The error-level (and worse) events logged so far. */
  errors(): LogEvent[] {
    return this.logs.events.filter((e) => e.level === 'error' || e.level === 'critical');
  }

  /** Listens on 127.0.0.1, port 0; resolves with the port once bound. */
  async listen(factory: IProtocolFactory): Promise<IListeningPort> {
    return this.reactor.listenTCP(0, factory, { interface: LOOPBACK }).whenListening();
  }

  /** Listens with a recording factory and connects a recording client to it. */
  async pair<S extends RecordingProtocol, C extends RecordingProtocol>(
    makeServer: () => S,
    makeClient: () => C,
  ): Promise<Pair<S, C>> {
    const serverFactory = new RecordingFactory(makeServer);
    const listening = await this.listen(serverFactory);
    const port = listening.getHost().port;
    const clientFactory = new RecordingClientFactory(makeClient);
    const connector = this.reactor.connectTCP(LOOPBACK, port, clientFactory);
    const client = await Promise.race([
      clientFactory.firstBuilt,
      clientFactory.failed.then((reason) => {
        throw new Error(`connecting to the test server failed: ${reason.getErrorMessage()}`);
      }),
    ]);
    await client.made;
    const server = await serverFactory.nth(1);
    await server.made;
    return { server, client, serverFactory, clientFactory, connector, listening, port };
  }

  /** Waits until `predicate()` holds, checking every `step` seconds of reactor time, at most `limit` times. */
  async until(predicate: () => boolean, what: string, step = 0.01, limit = 500): Promise<void> {
    for (let i = 0; i < limit; i++) {
      if (predicate()) return;
      await this.wait(step);
    }
    throw new Error(`${what}: not reached after ${String(limit)} checks`);
  }

  async #bounded<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#expired]);
  }

  async #teardown(): Promise<void> {
    if (this.#guard.active()) this.#guard.cancel();
    if (this.#done !== null) {
      try {
        this.reactor.stop();
      } catch (err) {
        // Already stopped, or shutting down: both fine, the test stopped it itself.
        if (!(err instanceof ReactorNotRunning)) throw err;
      }
      await this.#done;
    }
    await this.#settings.destroyReactor?.(this.reactor);
  }
}

function describeEvent(event: LogEvent): string {
  const failure = event.fields.failure as { getTraceback?: () => string } | undefined;
  const detail = typeof failure?.getTraceback === 'function' ? `\n${failure.getTraceback()}` : '';
  return `  [${event.level}] ${event.namespace}: ${event.message}${detail}`;
}
