/**
 * Protocols and factories that record what happens to them, so a test can
 * wait for an event (`await recorder.lost`) and then assert on the history.
 * @module
 */
import { ClientFactory, Factory, Protocol } from '@torsion/core';
import type {
  Failure,
  IAddress,
  IConnector,
  IHalfCloseableProtocol,
  ITCPTransport,
} from '@torsion/core';
import { Later } from './later.js';
import type { PatternChecker } from './pattern.js';

/** Records every callback; `made`, `lost` and `waitForBytes` let a test wait for them. */
export class Recorder extends Protocol<Factory, ITCPTransport> {
  /** Callback names in the order they ran. */
  readonly events: string[] = [];
  readonly made = new Later<void>();
  readonly lost = new Later<Failure>();
  /** How many times `connectionLost` ran (it must be once). */
  lostCount = 0;
  /** Bytes received so far. */
  byteCount = 0;
  /** When set, checks every byte against a pattern instead of keeping it. */
  checker: PatternChecker | null = null;
  readonly #chunks: Buffer[] = [];
  #waiters: { bytes: number; later: Later<void> }[] = [];

  override connectionMade(): void {
    this.events.push('connectionMade');
    this.made.callback();
  }

  override dataReceived(data: Buffer): void {
    this.byteCount += data.length;
    if (this.checker === null) this.#chunks.push(data);
    else this.checker.feed(data);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.byteCount < w.bytes) return true;
      w.later.callback();
      return false;
    });
  }

  override connectionLost(reason: Failure): void {
    this.events.push('connectionLost');
    this.lostCount++;
    this.lost.callback(reason);
    // Nothing more will arrive: wake every waiter so it can report the shortfall.
    for (const w of this.#waiters) w.later.callback();
    this.#waiters = [];
  }

  /** Everything received so far (empty when a checker is set). */
  received(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /** What was received, as UTF-8. */
  text(): string {
    return this.received().toString();
  }

  /**
   * Resolves once at least `bytes` bytes have arrived in total.
   * @throws Error if the connection is lost first.
   */
  async waitForBytes(bytes: number): Promise<void> {
    if (this.byteCount < bytes && !this.lost.called) {
      const later = new Later<void>();
      this.#waiters.push({ bytes, later });
      await later;
    }
    if (this.byteCount < bytes) {
      throw new Error(
        `connection lost after ${String(this.byteCount)} of ${String(bytes)} expected bytes`,
      );
    }
  }
}

/** Echoes every chunk back. */
export class Echo extends Recorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** A recorder that wants each direction's close separately. */
export class HalfCloseRecorder extends Recorder implements IHalfCloseableProtocol {
  readonly readLost = new Later<void>();
  readonly writeLost = new Later<void>();

  readConnectionLost(): void {
    this.events.push('readConnectionLost');
    this.readLost.callback();
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
    this.writeLost.callback();
  }
}

/** A server factory that keeps every protocol it built and counts start/stop. */
export class RecordingFactory<P extends Recorder = Recorder> extends Factory {
  readonly built: P[] = [];
  /** The address each `buildProtocol` call was given. */
  readonly addresses: IAddress[] = [];
  starts = 0;
  stops = 0;
  readonly #make: () => P;
  #waiters: { n: number; later: Later<void> }[] = [];

  constructor(make: () => P) {
    super();
    this.#make = make;
  }

  override startFactory(): void {
    this.starts++;
  }

  override stopFactory(): void {
    this.stops++;
  }

  override buildProtocol(addr: IAddress): P {
    this.addresses.push(addr);
    const p = this.#make();
    p.factory = this;
    this.built.push(p);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.built.length < w.n) return true;
      w.later.callback();
      return false;
    });
    return p;
  }

  /** Resolves with the `n`th protocol built (1-based) once it exists. */
  async nth(n: number): Promise<P> {
    if (this.built.length < n) {
      const later = new Later<void>();
      this.#waiters.push({ n, later });
      await later;
    }
    const built = this.built[n - 1];
    if (built === undefined) throw new Error(`protocol ${String(n)} was not built`);
    return built;
  }
}

/** A client factory that records the connector callbacks in order. */
export class RecordingClientFactory<P extends Recorder = Recorder> extends ClientFactory {
  readonly built: P[] = [];
  readonly addresses: IAddress[] = [];
  readonly events: string[] = [];
  readonly failed = new Later<Failure>();
  readonly connectionLost = new Later<Failure>();
  /** Resolves with the first protocol built. */
  readonly firstBuilt = new Later<P>();
  starts = 0;
  stops = 0;
  readonly #make: () => P;

  constructor(make: () => P) {
    super();
    this.#make = make;
  }

  override startFactory(): void {
    this.starts++;
  }

  override stopFactory(): void {
    this.stops++;
  }

  override buildProtocol(addr: IAddress): P | null {
    this.events.push('buildProtocol');
    this.addresses.push(addr);
    const p = this.#make();
    this.built.push(p);
    this.firstBuilt.callback(p);
    return p;
  }

  override startedConnecting(connector: IConnector): void {
    void connector;
    this.events.push('startedConnecting');
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void connector;
    this.events.push('clientConnectionFailed');
    this.failed.callback(reason);
  }

  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    void connector;
    this.events.push('clientConnectionLost');
    this.connectionLost.callback(reason);
  }
}
