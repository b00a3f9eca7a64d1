// Shared pieces for the Bun reactor tests: a protocol that records what
// happens to it, factories around it, a raw Bun socket peer, and small
// bounded waits. Every wait is bounded by mocha's test timeout or a count.
import type { Socket } from 'bun';
import { ClientFactory, Factory, Protocol } from '@torsion/core';
import type { Failure, IConnector, IReactorTCP, ITCPTransport } from '@torsion/core';

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

/** Records every callback; `made`/`lost` let a test wait for them. */
export class Recorder extends Protocol<Factory, ITCPTransport> {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  reason: Failure | null = null;
  lostCount = 0;
  readonly made = new Later<Recorder>();
  readonly lost = new Later<Failure>();
  #dataWaiters: { bytes: number; d: Later<Buffer> }[] = [];
  #received = 0;

  override connectionMade(): void {
    this.events.push('connectionMade');
    this.made.callback(this);
  }

  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
    this.#received += data.length;
    const total = this.#received;
    this.#dataWaiters = this.#dataWaiters.filter((w) => {
      if (total < w.bytes) return true;
      w.d.callback(this.received());
      return false;
    });
  }

  override connectionLost(reason: Failure): void {
    this.events.push('connectionLost');
    this.lostCount++;
    this.reason = reason;
    this.lost.callback(reason);
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.#received;
  }

  /** Everything received so far. */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once at least `bytes` bytes have arrived in total. */
  async waitForBytes(bytes: number): Promise<Buffer> {
    if (this.#received >= bytes) return this.received();
    const d = new Later<Buffer>();
    this.#dataWaiters.push({ bytes, d });
    return d;
  }
}

/** Echoes every chunk back. */
export class EchoRecorder extends Recorder {
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

/** Listens on `host` (127.0.0.1), port 0, with a recording factory; resolves once bound. */
export async function serveOnLoopback<P extends Recorder>(
  reactor: IReactorTCP,
  make: () => P,
  host = '127.0.0.1',
): Promise<{ factory: RecordingFactory<P>; port: number }> {
  const factory = new RecordingFactory(make);
  const listening = await reactor.listenTCP(0, factory, { interface: host }).whenListening();
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

interface PeerState {
  peer: RawPeer;
}

/**
 * A plain Bun socket on the other end, with its events recorded: the peer a
 * Torsion transport talks to, without any Torsion code in between.
 */
export class RawPeer {
  readonly chunks: Buffer[] = [];
  received = 0;
  ended = false;
  closed = false;
  closeError: Error | undefined = undefined;
  readonly gotEnd = new Later<void>();
  readonly gotClose = new Later<Error | undefined>();
  socket!: Socket<PeerState>;
  #wake: (() => void) | null = null;

  /** Connects to 127.0.0.1:`port` (or `host`). */
  static async connect(port: number, host = '127.0.0.1', allowHalfOpen = true): Promise<RawPeer> {
    const peer = new RawPeer();
    peer.socket = await Bun.connect<PeerState>({
      hostname: host,
      port,
      allowHalfOpen,
      data: { peer },
      socket: PEER_HANDLERS,
    });
    return peer;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `bytes` bytes arrived; rejects if the socket closes first. */
  async waitForBytes(bytes: number): Promise<void> {
    while (this.received < bytes) {
      if (this.closed) throw new Error(`peer closed after ${String(this.received)} bytes`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** @internal */
  poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

const PEER_HANDLERS = {
  data(socket: Socket<PeerState>, data: Buffer) {
    const peer = socket.data.peer;
    peer.chunks.push(data);
    peer.received += data.length;
    peer.poke();
  },
  end(socket: Socket<PeerState>) {
    const peer = socket.data.peer;
    peer.ended = true;
    peer.gotEnd.callback();
    peer.poke();
  },
  close(socket: Socket<PeerState>, error?: Error) {
    const peer = socket.data.peer;
    peer.closed = true;
    peer.closeError = error;
    peer.gotClose.callback(error);
    peer.poke();
  },
  error() {},
  drain() {},
};

/** Resolves after `n` turns of the event loop (setImmediate). */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `predicate` every millisecond, at most `limit` times. */
export async function until(predicate: () => boolean, limit = 5_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('condition not reached');
}

/** The transport's queued output (a BunTCPTransport extra, not in ITCPTransport). */
export function bufferedOf(protocol: Recorder): number {
  return (protocol.transport as unknown as { writeBufferSize: number }).writeBufferSize;
}
