/**
 * `RecordingClientFactory`: a client factory that records the connector
 * callbacks in order.
 *
 * Tests: test/testing/recording-factory.test.ts
 * @module
 */
import type { IAddress } from '../address.js';
import { ClientFactory } from '../factory.js';
import type { Failure } from '../failure.js';
import type { IConnector } from '../interfaces.js';
import type { Protocol } from '../protocol.js';
import { Eventual } from './eventual.js';
import type { RecordingProtocol } from './recording-protocol.js';

/**
 * A client factory that builds each protocol with `make` and records every
 * callback a connector makes: `startedConnecting`, `buildProtocol`,
 * `clientConnectionFailed` and `clientConnectionLost`, in
 * {@link RecordingClientFactory.events}. The first failure and the first loss
 * are kept, with their reasons, in {@link RecordingClientFactory.failed} and
 * {@link RecordingClientFactory.lost}.
 *
 * @typeParam P - the protocol `make` returns.
 *
 * @example
 * ```ts
 * const factory = new RecordingClientFactory(() => new RecordingProtocol());
 * reactor.connectTCP('127.0.0.1', port, factory);
 * const reason = await Promise.race([factory.failed, factory.lost]);
 * ```
 */
export class RecordingClientFactory<P extends Protocol = RecordingProtocol> extends ClientFactory {
  /** Every protocol built, oldest first. */
  readonly built: P[] = [];
  /** The address each `buildProtocol` call was given, in the same order. */
  readonly addresses: IAddress[] = [];
  /** Callback names in the order they ran. */
  readonly events: string[] = [];
  /** Called with the reason by the first `clientConnectionFailed`. */
  readonly failed = new Eventual<Failure>();
  /** Called with the reason by the first `clientConnectionLost`. */
  readonly lost = new Eventual<Failure>();
  /** Called with the first protocol built. */
  readonly firstBuilt = new Eventual<P>();
  /** How many times `startFactory` ran. */
  starts = 0;
  /** How many times `stopFactory` ran. */
  stops = 0;
  readonly #make: () => P;

  /** @param make - builds the protocol for each connection. */
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

  /**
   * Builds, records and returns a protocol for `addr`. Typed `P | null` so a
   * subclass may refuse the connection by returning null.
   */
  override buildProtocol(addr: IAddress): P | null {
    this.events.push('buildProtocol');
    this.addresses.push(addr);
    const p = this.#make();
    this.built.push(p);
    this.firstBuilt.callback(p);
    return p;
  }

  /** Records the call. */
  override startedConnecting(connector: IConnector): void {
    void connector;
    this.events.push('startedConnecting');
  }

  /** Records the call and settles {@link RecordingClientFactory.failed} the first time. */
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void connector;
    this.events.push('clientConnectionFailed');
    this.failed.callback(reason);
  }

  /** Records the call and settles {@link RecordingClientFactory.lost} the first time. */
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    void connector;
    this.events.push('clientConnectionLost');
    this.lost.callback(reason);
  }
}
