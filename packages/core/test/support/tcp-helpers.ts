// Shared pieces for the real-socket tests: a protocol that records what
// happens to it, factories around it, and small promise helpers. Every wait
// is bounded by mocha's test timeout.
import { connect, type Socket } from 'node:net';
import type { Failure } from '../../src/failure.js';
import { ClientFactory, Factory } from '../../src/factory.js';
import type { IConnector, IReactorTCP, ITCPTransport } from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';

/** A promise with its resolve function, for results that are Failures (a Deferred would errback). */
export class Later<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  called = false;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = (value: T) => {
        this.called = true;
        resolve(value);
      };
    });
  }

  // Lets a test `await later` directly.
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise.then(onFulfilled, onRejected);
  }

  callback(value: T): void {
    this.resolve(value);
  }
}

/** Records every callback; `whenLost`/`whenMade` let a test wait for them. */
export class Recorder extends Protocol<Factory, ITCPTransport> {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  reason: Failure | null = null;
  readonly made = new Later<Recorder>();
  readonly lost = new Later<Failure>();
  #dataWaiters: { bytes: number; d: Later<Buffer> }[] = [];

  override connectionMade(): void {
    this.events.push('connectionMade');
    this.made.callback(this);
  }

  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
    const total = this.received().length;
    this.#dataWaiters = this.#dataWaiters.filter((w) => {
      if (total < w.bytes) return true;
      w.d.callback(this.received());
      return false;
    });
  }

  override connectionLost(reason: Failure): void {
    this.events.push('connectionLost');
    this.reason = reason;
    this.lost.callback(reason);
  }

  /** Everything received so far. */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once at least `bytes` bytes have arrived in total. */
  async waitForBytes(bytes: number): Promise<Buffer> {
    if (this.received().length >= bytes) return this.received();
    const d = new Later<Buffer>();
    this.#dataWaiters.push({ bytes, d });
    return d;
  }
}

/** Echoes every chunk back. */
export class Echo extends Recorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** A server factory that keeps every protocol it built. */
export class RecordingFactory<P extends Recorder = Recorder> extends Factory {
  readonly built: P[] = [];
  readonly #make: () => P;
  #waiters: { n: number; d: Later<P[]> }[] = [];
  starts = 0;
  stops = 0;

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

  override buildProtocol(): P {
    const p = this.#make();
    p.factory = this;
    this.built.push(p);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.built.length < w.n) return true;
      w.d.callback(this.built);
      return false;
    });
    return p;
  }

  /** Resolves once `n` protocols were built. */
  async waitForBuilt(n: number): Promise<P[]> {
    if (this.built.length >= n) return this.built;
    const d = new Later<P[]>();
    this.#waiters.push({ n, d });
    return d;
  }
}

/** Listens on 127.0.0.1, port 0, with a recording factory; resolves once bound. */
export async function serveOnLoopback<P extends Recorder>(
  reactor: IReactorTCP,
  make: () => P,
): Promise<{ factory: RecordingFactory<P>; port: number }> {
  const factory = new RecordingFactory(make);
  const listening = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
  return { factory, port: listening.getHost().port };
}

/** A client factory that records the connector callbacks. */
export class RecordingClientFactory<P extends Recorder = Recorder> extends ClientFactory {
  readonly built: P[] = [];
  readonly events: string[] = [];
  readonly failed = new Later<Failure>();
  readonly connectionLostReason = new Later<Failure>();
  readonly #make: () => P;
  starts = 0;
  stops = 0;

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

  override buildProtocol(): P {
    this.events.push('buildProtocol');
    const p = this.#make();
    this.built.push(p);
    return p;
  }

  override startedConnecting(connector: IConnector): void {
    void connector;
    this.events.push('startedConnecting');
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void connector;
    this.events.push('clientConnectionFailed');
    if (!this.failed.called) this.failed.callback(reason);
  }

  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    void connector;
    this.events.push('clientConnectionLost');
    if (!this.connectionLostReason.called) this.connectionLostReason.callback(reason);
  }
}

/**
 * A plain Node client socket, connected; errors are recorded, never thrown.
 * With `allowHalfOpen` false (the default) it closes when the server's FIN arrives.
 */
export async function rawConnect(
  port: number,
  host = '127.0.0.1',
  allowHalfOpen = false,
): Promise<RawClient> {
  const client = rawSocket(port, host, allowHalfOpen);
  const socket = client.socket;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return client;
}

/** A plain Node client socket, connecting; nothing is awaited. */
export function rawSocket(port: number, host = '127.0.0.1', allowHalfOpen = false): RawClient {
  return new RawClient(connect({ port, host, allowHalfOpen }));
}

/** A Node socket with its events recorded, for testing the server side. */
export class RawClient {
  readonly socket: Socket;
  readonly chunks: Buffer[] = [];
  error: Error | null = null;
  ended = false;
  readonly closed: Promise<boolean>;
  readonly gotEnd: Promise<void>;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('error', (e) => {
      this.error = e;
    });
    this.gotEnd = new Promise((resolve) => {
      socket.on('end', () => {
        this.ended = true;
        resolve();
      });
    });
    this.closed = new Promise((resolve) => socket.on('close', resolve));
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async waitForBytes(bytes: number): Promise<Buffer> {
    while (this.received().length < bytes) {
      if (this.socket.destroyed)
        throw new Error(`socket closed after ${this.received().length} bytes`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.socket.off('data', wake).off('close', wake);
          resolve();
        };
        this.socket.on('data', wake).on('close', wake);
      });
    }
    return this.received();
  }
}

/** Resolves after `n` turns of the event loop (setImmediate). */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `predicate` once per loop turn, at most `limit` turns. */
export async function until(predicate: () => boolean, limit = 10_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('condition not reached');
}
