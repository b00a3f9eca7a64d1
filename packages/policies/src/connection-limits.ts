/**
 * Connection admission: {@link LimitTotalConnectionsFactory} (at most N
 * connections at once), {@link LimitConnectionsByPeer} (at most N per peer
 * address) and {@link RateLimitConnectionsByPeer} (a token bucket of new
 * connections per peer address). A refused connection is closed at once:
 * `buildProtocol` returns `null`, as Twisted's do, a log line says why, and
 * the `onRefused` hook (see refusal.ts) is told.
 *
 * Tests: test/connection-limits.test.ts, ../haproxy/test/wrapping-factory.test.ts
 * @module
 */
import {
  getReactor,
  Logger,
  type IAddress,
  type IProtocol,
  type IProtocolFactory,
  type IReactorTime,
} from '@torsion/core';

import { ProtocolWrapper } from './protocol-wrapper.js';
import { checkOnRefused, notifyRefused, type OnRefused, type RefusalOptions } from './refusal.js';
import { WrappingFactory } from './wrapping-factory.js';

const log = new Logger('torsion.policies.limits');

function checkCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${field} must be a whole number of at least 1; got ${String(value)}`);
  }
}

function checkRate(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number above 0; got ${String(value)}`);
  }
}

/**
 * The key a peer is counted under: the IP address without the port, with an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) counted as the IPv4 address
 * it maps (a dual-stack listener reports IPv4 clients that way); a UNIX
 * peer's path (usually unnamed: all such clients share one key).
 */
export function peerKey(addr: IAddress): string {
  if (addr.family === 'UNIX') return `unix:${String(addr)}`;
  const host = addr.host.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host);
  return mapped?.[1] ?? host;
}

/**
 * Refuses connections beyond `connectionLimit` open at once. Refused
 * connections are closed at once with a log line (Twisted's behaviour when
 * no overflow protocol is set); none is queued.
 */
export class LimitTotalConnectionsFactory extends WrappingFactory {
  /** Told of each refusal: policy `limitTotalConnections`, reason `connection-limit`. */
  readonly onRefused: OnRefused | undefined;

  /** How many connections are open now. */
  get connectionCount(): number {
    return this.protocols.size;
  }

  /**
   * @throws RangeError if `connectionLimit` is not a whole number of at least 1;
   * TypeError if `options.onRefused` is not a function.
   */
  constructor(
    wrappedFactory: IProtocolFactory,
    readonly connectionLimit: number,
    options: RefusalOptions = {},
  ) {
    super(wrappedFactory);
    checkCount('LimitTotalConnectionsFactory connectionLimit', connectionLimit);
    this.onRefused = checkOnRefused('LimitTotalConnectionsFactory', options.onRefused);
  }

  override buildProtocol(addr: IAddress): IProtocol | null {
    if (this.protocols.size >= this.connectionLimit) {
      log.warn('Refused a connection: the connection limit is reached', {
        peer: String(addr),
        connectionLimit: this.connectionLimit,
      });
      notifyRefused(this.onRefused, {
        policy: 'limitTotalConnections',
        peer: addr,
        reason: 'connection-limit',
      });
      return null;
    }
    return super.buildProtocol(addr);
  }
}

/**
 * Refuses a connection from a peer that already has `maxConnectionsPerPeer`
 * open (default 5, as Twisted's). Peers are keyed by {@link peerKey}.
 * Twisted's class of the same name raises on every connection (it indexes
 * the address object like a tuple; twisted issue #12183); this one counts.
 */
export class LimitConnectionsByPeer extends WrappingFactory {
  /** Open connections per peer key; a peer with none has no entry. */
  readonly peerConnections = new Map<string, number>();
  /** Told of each refusal: policy `limitConnectionsByPeer`, reason `peer-connection-limit`. */
  readonly onRefused: OnRefused | undefined;

  /**
   * @throws RangeError if `maxConnectionsPerPeer` is not a whole number of at least 1;
   * TypeError if `options.onRefused` is not a function.
   */
  constructor(
    wrappedFactory: IProtocolFactory,
    readonly maxConnectionsPerPeer = 5,
    options: RefusalOptions = {},
  ) {
    super(wrappedFactory);
    checkCount('LimitConnectionsByPeer maxConnectionsPerPeer', maxConnectionsPerPeer);
    this.onRefused = checkOnRefused('LimitConnectionsByPeer', options.onRefused);
  }

  override buildProtocol(addr: IAddress): IProtocol | null {
    const key = peerKey(addr);
    if ((this.peerConnections.get(key) ?? 0) >= this.maxConnectionsPerPeer) {
      log.warn('Refused a connection: the peer has too many open', {
        peer: String(addr),
        maxConnectionsPerPeer: this.maxConnectionsPerPeer,
      });
      notifyRefused(this.onRefused, {
        policy: 'limitConnectionsByPeer',
        peer: addr,
        reason: 'peer-connection-limit',
      });
      return null;
    }
    return super.buildProtocol(addr);
  }

  /** The wrapper remembers the key it was admitted under, so it is uncounted under the same one. */
  protected override wrapProtocol(wrapped: IProtocol, addr: IAddress): ProtocolWrapper {
    return new PeerCountedProtocol(this, wrapped, peerKey(addr));
  }

  // Counted when the connection is up and uncounted when it is gone, so a
  // protocol built but never connected cannot leak a slot. The key is the
  // address buildProtocol judged: behind the PROXY protocol, the client's.
  override registerProtocol(wrapper: ProtocolWrapper): void {
    super.registerProtocol(wrapper);
    const key = keyOf(wrapper);
    this.peerConnections.set(key, (this.peerConnections.get(key) ?? 0) + 1);
  }

  override unregisterProtocol(wrapper: ProtocolWrapper): void {
    super.unregisterProtocol(wrapper);
    const key = keyOf(wrapper);
    const left = (this.peerConnections.get(key) ?? 1) - 1;
    if (left > 0) this.peerConnections.set(key, left);
    else this.peerConnections.delete(key);
  }
}

/** A {@link LimitConnectionsByPeer} connection: the peer key it was admitted and is counted under. */
export class PeerCountedProtocol extends ProtocolWrapper {
  constructor(
    factory: LimitConnectionsByPeer,
    wrapped: IProtocol,
    /** The key (the module function `peerKey`) of the address it was admitted for. */
    readonly peerKey: string,
  ) {
    super(factory, wrapped);
  }
}

/** The key a wrapper is counted under; a wrapper made elsewhere (a subclass's) by its transport's peer. */
function keyOf(wrapper: ProtocolWrapper): string {
  return wrapper instanceof PeerCountedProtocol
    ? wrapper.peerKey
    : peerKey(wrapper.transport.getPeer());
}

/** Options for {@link RateLimitConnectionsByPeer}. */
export interface RateLimitOptions extends RefusalOptions {
  /** New connections a peer may open per second, on average. */
  ratePerSecond: number;
  /** How many a peer may open in a burst (the bucket's size). Default: `ratePerSecond`, at least 1. */
  burst?: number;
  /** The clock; the installed reactor by default. */
  clock?: IReactorTime;
}

/**
 * Limits how fast each peer may open connections: a token bucket per peer
 * key ({@link peerKey}) holding up to `burst` tokens, refilled at
 * `ratePerSecond`; each new connection takes one, and a peer with none left
 * is refused (closed at once, with a log line). A bucket that has refilled
 * completely is forgotten, so memory follows the peers active within the
 * last `burst / ratePerSecond` seconds.
 */
export class RateLimitConnectionsByPeer extends WrappingFactory {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly clock: IReactorTime;
  /** Told of each refusal: policy `rateLimitConnectionsByPeer`, reason `peer-rate-limit`. */
  readonly onRefused: OnRefused | undefined;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  /** Prune when the map grows past this; doubled after a prune that freed little, so pruning stays amortised O(1). */
  #pruneAt = 1024;

  /**
   * @throws RangeError naming the option if `ratePerSecond` or `burst` is invalid;
   * TypeError if `onRefused` is not a function.
   */
  constructor(wrappedFactory: IProtocolFactory, options: RateLimitOptions) {
    super(wrappedFactory);
    checkRate('RateLimitConnectionsByPeer ratePerSecond', options.ratePerSecond);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst ?? Math.max(1, options.ratePerSecond);
    checkRate('RateLimitConnectionsByPeer burst', this.burst);
    this.clock = options.clock ?? getReactor();
    this.onRefused = checkOnRefused('RateLimitConnectionsByPeer', options.onRefused);
  }

  /** How many peers have a bucket that is not full. */
  get trackedPeers(): number {
    this.#prune();
    return this.#buckets.size;
  }

  override buildProtocol(addr: IAddress): IProtocol | null {
    const key = peerKey(addr);
    const now = this.clock.seconds();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.ratePerSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(key, bucket);
      log.warn('Refused a connection: the peer opens connections too fast', {
        peer: String(addr),
        ratePerSecond: this.ratePerSecond,
        burst: this.burst,
      });
      notifyRefused(this.onRefused, {
        policy: 'rateLimitConnectionsByPeer',
        peer: addr,
        reason: 'peer-rate-limit',
      });
      return null;
    }
    bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#pruneAt) {
      this.#prune();
      this.#pruneAt = Math.max(1024, 2 * this.#buckets.size);
    }
    return super.buildProtocol(addr);
  }

  #prune(): void {
    const now = this.clock.seconds();
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.ratePerSecond >= this.burst) {
        this.#buckets.delete(key);
      }
    }
  }
}
