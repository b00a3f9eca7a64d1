/**
 * `RecordingFactory`: a server factory that keeps every protocol it built and
 * counts `startFactory` / `stopFactory`.
 *
 * Tests: test/testing/recording-factory.test.ts
 * @module
 */
import type { IAddress } from '../address.js';
import { Factory } from '../factory.js';
import type { Protocol } from '../protocol.js';
import { Eventual } from './eventual.js';
import type { RecordingProtocol } from './recording-protocol.js';

/**
 * A server factory that builds each protocol with `make`, sets its `factory`,
 * and keeps it in {@link RecordingFactory.built}; a test waits for the `n`th
 * connection with {@link RecordingFactory.nth} or
 * {@link RecordingFactory.waitForBuilt}.
 *
 * @typeParam P - the protocol `make` returns.
 *
 * @example
 * ```ts
 * const factory = new RecordingFactory(() => new EchoingProtocol());
 * reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
 * // ... connect a client ...
 * const server = await factory.nth(1);
 * await server.made;
 * ```
 */
export class RecordingFactory<P extends Protocol = RecordingProtocol> extends Factory {
  /** Every protocol built, oldest first. */
  readonly built: P[] = [];
  /** The address each `buildProtocol` call was given, in the same order. */
  readonly addresses: IAddress[] = [];
  /** How many times `startFactory` ran. */
  starts = 0;
  /** How many times `stopFactory` ran. */
  stops = 0;
  readonly #make: () => P;
  #waiters: { n: number; ready: Eventual<void> }[] = [];

  /** @param make - builds one protocol per connection. */
  constructor(make: () => P) {
    super();
    this.#make = make;
  }

  /** Counts the call. */
  override startFactory(): void {
    this.starts++;
  }

  /** Counts the call. */
  override stopFactory(): void {
    this.stops++;
  }

  /** Builds, records and returns a protocol for `addr`. */
  override buildProtocol(addr: IAddress): P {
    this.addresses.push(addr);
    const p = this.#make();
    p.factory = this;
    this.built.push(p);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.built.length < w.n) return true;
      w.ready.callback();
      return false;
    });
    return p;
  }

  /** Resolves with {@link RecordingFactory.built} once at least `n` protocols exist. */
  async waitForBuilt(n: number): Promise<P[]> {
    if (this.built.length < n) {
      const ready = new Eventual<void>();
      this.#waiters.push({ n, ready });
      await ready;
    }
    return this.built;
  }

  /** Resolves with the `n`th protocol built (1-based) once it exists. */
  async nth(n: number): Promise<P> {
    const built = (await this.waitForBuilt(n))[n - 1];
    if (built === undefined) throw new RangeError(`nth(${String(n)}): n counts from 1`);
    return built;
  }
}
