/**
 * In-memory connections between two protocols (Twisted's `test/iosim.py`):
 * `IOPump` moves the bytes between two {@link FakeTransport}s
 * (fake-transport.ts) when the test says so, and `connectedServerAndClient`
 * wires a client and a server together in one call;
 * `connectedServerAndClientOverTLS` does the same over real TLS.
 *
 * TLS (after `startTLS()`, or from `connectedServerAndClientOverTLS`) runs in
 * Node's TLS engine, which does its work on later ticks of the event loop,
 * never inside the call that fed it: a synchronous `flush()` moves the bytes
 * already written and stops, so a test of TLS awaits `flushAsync()`, which
 * lets the engines run between rounds.
 *
 * Tests: test/testing/io-pump.test.ts
 * @module
 */
import { IPv4Address } from '../address.js';
import type { IAddress, INETAddress } from '../address.js';
import type { TLSError } from '../errors.js';
import type { IProtocol } from '../interfaces.js';
import type { ClientTLSOptions, ServerTLSOptions } from '../tls-options.js';
import { fixedChunker } from './chunkers.js';
import type { Chunker } from './chunkers.js';
import { FakeTransport, joinPump, pumpPair, startEnd, startEndTLS } from './fake-transport.js';
import type { PumpSettings } from './fake-transport.js';

/** A clock the pump can advance by 0 each round, running calls that are due (e.g. `Clock`). */
export interface PumpClock {
  advance(seconds: number): void;
}

/** Options for {@link IOPump}. */
export interface IOPumpOptions {
  /** Advanced by 0 at the start of every round, so `callLater(0, …)` calls run. */
  clock?: PumpClock;
  /**
   * Deliver each buffer in pieces: a size in bytes, or a {@link Chunker}
   * (e.g. `randomChunker(seed)`). Default: everything queued in one piece.
   */
  chunking?: number | Chunker;
  /**
   * When false (the default), an error thrown by a protocol or a producer
   * propagates out of the next `pump()`/`flush()` (thrown during pumping, it
   * ends that round), so the test fails at the real cause; the connection
   * is left as it was. When true, it is handled as a reactor would: logged
   * with its traceback and the connection aborted (the throwing end gets a
   * ConnectionLost whose `cause` is the error, the peer a ConnectionLost);
   * an error from `connectionLost` or `stopProducing` is only logged.
   */
  isolateErrors?: boolean;
  /** `flush()` and `flushAsync()` give up, throwing, after this many busy rounds. Default 1000. */
  maxRounds?: number;
}

/**
 * Moves bytes and close events between two {@link FakeTransport}s.
 *
 * @remarks
 * One `pump()` delivers everything queued in each direction (client to
 * server first), then, if nothing moved, settles one close or half-close.
 * `flush()` pumps until nothing moves. Protocols that keep answering each
 * other forever make `flush()` throw after {@link IOPumpOptions.maxRounds}.
 * Over TLS, use `await flushAsync()` (see the module comment).
 */
export class IOPump {
  /** The client end. */
  readonly client: FakeTransport;
  /** The server end. */
  readonly server: FakeTransport;
  readonly #settings: PumpSettings;
  readonly #clock: PumpClock | null;
  readonly #maxRounds: number;

  /**
   * @param client - the client end.
   * @param server - the server end.
   * @param options - clock, chunking, error policy, round limit.
   * @throws RangeError if `maxRounds` is not a positive integer (or the chunk size is invalid).
   */
  constructor(client: FakeTransport, server: FakeTransport, options: IOPumpOptions = {}) {
    this.client = client;
    this.server = server;
    const chunking = options.chunking;
    this.#settings = {
      chunker:
        chunking === undefined
          ? null
          : typeof chunking === 'number'
            ? fixedChunker(chunking)
            : chunking,
      isolateErrors: options.isolateErrors ?? false,
    };
    this.#clock = options.clock ?? null;
    this.#maxRounds = options.maxRounds ?? 1000;
    if (!Number.isInteger(this.#maxRounds) || this.#maxRounds < 1) {
      throw new RangeError(
        `maxRounds must be a positive integer, not ${String(options.maxRounds)}`,
      );
    }
    joinPump(client, this.#settings);
    joinPump(server, this.#settings);
  }

  /**
   * Runs one round: advances the clock by 0, delivers queued bytes both
   * ways, or settles one close event.
   * @returns true if anything moved or closed.
   * @throws whatever a protocol or producer threw since the last pump call,
   *   unless `isolateErrors` is set.
   */
  pump(): boolean {
    this.#clock?.advance(0);
    return pumpPair(this.client, this.server, this.#settings);
  }

  /**
   * Pumps until a round moves nothing.
   * @returns true if anything moved.
   * @throws Error if still busy after `maxRounds` rounds (protocols ping-ponging forever).
   */
  flush(): boolean {
    let moved = false;
    for (let round = 0; round < this.#maxRounds; round++) {
      if (!this.pump()) return moved;
      moved = true;
    }
    throw new Error(
      `IOPump.flush(): still busy after ${this.#maxRounds} rounds; do the protocols answer each other forever?`,
    );
  }

  /**
   * Pumps until nothing moves, letting Node's event loop turn between rounds
   * so that TLS engines (which work on later ticks) encrypt, decrypt and
   * answer; it returns once several turns in a row moved nothing.
   * @returns true if anything moved.
   * @throws Error if still busy after `maxRounds` rounds; whatever a
   *   protocol threw, as `pump()`.
   */
  async flushAsync(): Promise<boolean> {
    let moved = false;
    let quietTurns = 0;
    for (let round = 0; round < this.#maxRounds;) {
      if (this.pump()) {
        moved = true;
        quietTurns = 0;
        round++;
      } else if (++quietTurns > QUIET_TURNS) {
        return moved;
      }
      await nextTurn();
    }
    throw new Error(
      `IOPump.flushAsync(): still busy after ${this.#maxRounds} rounds; do the protocols answer each other forever?`,
    );
  }
}

/**
 * Turns of the event loop with nothing to pump after which the engines are
 * idle: they finish what a round gave them within its ticks, except that
 * the end of a TLS stream takes one `setImmediate` more.
 */
const QUIET_TURNS = 3;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Anything with `buildProtocol`, such as a `Factory`. */
export interface ProtocolBuilder<P extends IProtocol> {
  buildProtocol(addr: IAddress): P | null;
}

/** The server end for {@link connectedServerAndClient}: a protocol, or a factory to build one. */
export type ServerSide<S extends IProtocol> =
  | { serverProtocol: S; serverFactory?: never }
  | { serverFactory: ProtocolBuilder<S>; serverProtocol?: never };

/** The client end for {@link connectedServerAndClient}: a protocol, or a factory to build one. */
export type ClientSide<C extends IProtocol> =
  | { clientProtocol: C; clientFactory?: never }
  | { clientFactory: ProtocolBuilder<C>; clientProtocol?: never };

/** Options for {@link connectedServerAndClient}, besides the two ends. */
export interface ConnectionOptions extends IOPumpOptions {
  /** Flush once after both `connectionMade` calls, so greetings are exchanged. Default true. */
  greet?: boolean;
  /** The server's address. Default `IPv4Address('TCP', '127.0.0.1', 12345)`. */
  serverAddress?: INETAddress;
  /** The client's address. Default `IPv4Address('TCP', '127.0.0.1', 54321)`. */
  clientAddress?: INETAddress;
  /** See {@link FakeTransportOptions.highWaterMark}. */
  highWaterMark?: number;
}

/** What {@link connectedServerAndClient} returns. */
export interface ConnectedPair<S extends IProtocol, C extends IProtocol> {
  client: C;
  server: S;
  clientTransport: FakeTransport;
  serverTransport: FakeTransport;
  pump: IOPump;
}

/**
 * Connects a client protocol and a server protocol in memory.
 *
 * Each end gets a {@link FakeTransport}; the client's `makeConnection` runs
 * first, then the server's; with `greet` (the default) the pump is then
 * flushed once so anything written in `connectionMade` has arrived.
 *
 * @param options - the two ends (protocols, or factories whose
 *   `buildProtocol(peerAddress)` builds them) and {@link ConnectionOptions}.
 * @returns both protocols, both transports and the pump.
 * @throws Error if a factory refuses (returns `null`); anything a protocol
 *   throws while connecting, unless `isolateErrors` is set.
 * @remarks Factories are only asked to build: `doStart`, `startedConnecting`
 *   and `clientConnectionLost` are not called (use a `MemoryReactor` to test those).
 *
 * @example
 * ```ts
 * const { client, pump } = connectedServerAndClient({
 *   serverFactory: Factory.forProtocol(Echo),
 *   clientProtocol: new Collector(),
 * });
 * client.transport.write('ping');
 * pump.flush();
 * ```
 */
export function connectedServerAndClient<S extends IProtocol, C extends IProtocol>(
  options: ServerSide<S> & ClientSide<C> & ConnectionOptions,
): ConnectedPair<S, C> {
  const serverAddress = options.serverAddress ?? new IPv4Address('TCP', '127.0.0.1', 12345);
  const clientAddress = options.clientAddress ?? new IPv4Address('TCP', '127.0.0.1', 54321);
  const server = buildEnd('server', options.serverProtocol, options.serverFactory, clientAddress);
  const client = buildEnd('client', options.clientProtocol, options.clientFactory, serverAddress);
  const mark = options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark };
  const serverTransport = new FakeTransport(server, {
    hostAddress: serverAddress,
    peerAddress: clientAddress,
    isServer: true,
    ...mark,
  });
  const clientTransport = new FakeTransport(client, {
    hostAddress: clientAddress,
    peerAddress: serverAddress,
    isServer: false,
    ...mark,
  });
  const pump = new IOPump(clientTransport, serverTransport, options);
  startEnd(clientTransport);
  startEnd(serverTransport);
  if (options.greet ?? true) pump.flush();
  return { client, server, clientTransport, serverTransport, pump };
}

function buildEnd<P extends IProtocol>(
  which: string,
  protocol: P | undefined,
  factory: ProtocolBuilder<P> | undefined,
  peerAddress: INETAddress,
): P {
  if (protocol !== undefined) return protocol;
  if (factory === undefined) {
    throw new TypeError(`connectedServerAndClient() needs a ${which}Protocol or a ${which}Factory`);
  }
  const built = factory.buildProtocol(peerAddress);
  if (built === null) throw new Error(`The ${which} factory refused the connection`);
  return built;
}

/** Options for {@link connectedServerAndClientOverTLS}, besides the two ends. */
export interface TLSConnectionOptions extends Omit<ConnectionOptions, 'greet'> {
  /** The server's TLS options (`serverTLSOptions()`). */
  serverTLS: ServerTLSOptions;
  /** The client's TLS options (`optionsForClientTLS()`). */
  clientTLS: ClientTLSOptions;
}

/**
 * Connects a client protocol and a server protocol in memory over real TLS,
 * as `listenSSL`/`connectSSL` would: the handshake runs first, then each
 * protocol is connected (`makeConnection`, then `handshakeCompleted()` if it
 * has one), then the pump is flushed so greetings are exchanged.
 *
 * @param options - the two ends, their TLS options, and {@link ConnectionOptions}.
 * @returns once both handshakes completed: both protocols, both transports and the pump.
 * @throws TLSError (as a rejection) if the handshake fails at either end.
 *
 * @example
 * ```ts
 * const { client, pump } = await connectedServerAndClientOverTLS({
 *   serverFactory: Factory.forProtocol(Echo),
 *   clientProtocol: new Collector(),
 *   serverTLS: serverTLSOptions(certs.server),
 *   clientTLS: optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }),
 * });
 * client.transport.write('ping');
 * await pump.flushAsync();
 * ```
 */
export async function connectedServerAndClientOverTLS<S extends IProtocol, C extends IProtocol>(
  options: ServerSide<S> & ClientSide<C> & TLSConnectionOptions,
): Promise<ConnectedPair<S, C>> {
  const serverAddress = options.serverAddress ?? new IPv4Address('TCP', '127.0.0.1', 12345);
  const clientAddress = options.clientAddress ?? new IPv4Address('TCP', '127.0.0.1', 54321);
  const server = buildEnd('server', options.serverProtocol, options.serverFactory, clientAddress);
  const client = buildEnd('client', options.clientProtocol, options.clientFactory, serverAddress);
  const mark = options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark };
  const serverTransport = new FakeTransport(server, {
    hostAddress: serverAddress,
    peerAddress: clientAddress,
    isServer: true,
    ...mark,
  });
  const clientTransport = new FakeTransport(client, {
    hostAddress: clientAddress,
    peerAddress: serverAddress,
    isServer: false,
    ...mark,
  });
  const pump = new IOPump(clientTransport, serverTransport, options);
  // Set by the handshake callbacks, which run while the pump is flushed.
  const state: { failure: TLSError | null; connected: number } = { failure: null, connected: 0 };
  const attach =
    (side: FakeTransport) =>
    (error: TLSError | null): void => {
      if (error !== null) {
        state.failure ??= error;
        return;
      }
      startEnd(side);
      state.connected++;
    };
  startEndTLS(serverTransport, options.serverTLS, attach(serverTransport));
  startEndTLS(clientTransport, options.clientTLS, attach(clientTransport));
  while (state.connected < 2 && state.failure === null) {
    if (!(await pump.flushAsync())) break;
  }
  if (state.failure !== null) throw state.failure;
  if (state.connected < 2) throw new Error('The TLS handshake did not complete');
  await pump.flushAsync();
  return { client, server, clientTransport, serverTransport, pump };
}
