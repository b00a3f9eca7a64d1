/**
 * Link conditions of a {@link SimulatedNetwork}: how long bytes take to cross
 * (latency, bandwidth, jitter), how they are cut on the way (chunking), and
 * how much a receiver buffers before the sender must wait (the receive
 * window); and, for UDP datagrams only, how many are lost, duplicated or
 * reordered, and the largest packet the link carries (the MTU). Settings apply network-wide, per pair of hosts, or per
 * connection; the most specific setting of each field wins.
 *
 * Tests: test/testing/simulated/simulated-network.test.ts,
 * test/testing/simulated/simulated-udp.test.ts
 * @module
 */

/** What a link between two virtual hosts does to the bytes crossing it. */
export interface LinkConditions {
  /** One-way delay in seconds. Default 0. */
  latency?: number;
  /**
   * Bytes per second each direction of a connection can carry; a write of
   * `n` bytes takes `n / bandwidth` seconds to leave the sender. Default
   * `Infinity`.
   */
  bandwidth?: number;
  /**
   * Extra delay of each segment, drawn from the seeded generator between 0
   * and this many seconds. Segments never overtake each other. Default 0.
   */
  jitter?: number;
  /**
   * Re-cut the byte stream at random places (from the seeded generator): a
   * number is the largest piece in bytes, `true` means 16, `false` (default)
   * delivers each batch of writes in one piece.
   */
  chunking?: boolean | number;
  /**
   * Bytes a receiver holds before the sender must wait (TCP's receive
   * window), in bytes. Default 65536.
   */
  receiveWindow?: number;
  /**
   * UDP only: the probability (0 to 1) that a datagram is lost on the way.
   * TCP is unaffected (it retransmits). Default 0.
   */
  loss?: number;
  /** UDP only: the probability (0 to 1) that a datagram arrives twice. Default 0. */
  duplication?: number;
  /**
   * UDP only: the probability (0 to 1) that a datagram is held back by an
   * extra random delay of up to 10 ms (or the
   * latency, if longer), so that datagrams sent after it overtake it.
   * Default 0.
   */
  reorder?: number;
  /**
   * UDP only: the largest IP packet the link carries, in bytes. A datagram
   * whose packet (payload, plus 8 bytes of UDP header and 20 of IPv4) is
   * larger is dropped and counted in `network.datagramStats.tooBig`, as a
   * path that will not fragment it (DF set, or a fragment lost) drops it.
   * Default `Infinity`.
   */
  mtu?: number;
}

/** {@link LinkConditions} with every field filled in. */
export interface ResolvedLinkConditions {
  readonly latency: number;
  readonly bandwidth: number;
  readonly jitter: number;
  /** Largest piece in bytes; 0 when chunking is off. */
  readonly chunkSize: number;
  readonly receiveWindow: number;
  readonly loss: number;
  readonly duplication: number;
  readonly reorder: number;
  readonly mtu: number;
}

/** The conditions of a link nobody configured: instant, unlimited, one piece per batch. */
export const DEFAULT_LINK_CONDITIONS: ResolvedLinkConditions = Object.freeze({
  latency: 0,
  bandwidth: Infinity,
  jitter: 0,
  chunkSize: 0,
  receiveWindow: 64 * 1024,
  loss: 0,
  duplication: 0,
  reorder: 0,
  mtu: Infinity,
});

/** The longest extra delay, in seconds, of a datagram `reorder` holds back (unless the latency is longer). */
export const REORDER_DELAY = 0.01;

/** The largest piece `chunking: true` cuts. */
const DEFAULT_CHUNK_SIZE = 16;

function checkNonNegative(value: unknown, what: string, allowInfinity: boolean): void {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < 0 ||
    (!allowInfinity && value === Infinity)
  ) {
    throw new RangeError(
      `${what} must be a ${allowInfinity ? '' : 'finite '}number >= 0, got ${String(value)}`,
    );
  }
}

/**
 * Checks a set of conditions, so a mistake fails where it was made.
 * @throws RangeError for a negative or non-numeric field, a bandwidth of 0,
 *   a chunk size that is not a positive integer, or a receive window below 1.
 */
export function validateLinkConditions(conditions: LinkConditions): void {
  const { latency, bandwidth, jitter, chunking, receiveWindow } = conditions;
  if (latency !== undefined) checkNonNegative(latency, 'latency', false);
  if (jitter !== undefined) checkNonNegative(jitter, 'jitter', false);
  if (bandwidth !== undefined) {
    checkNonNegative(bandwidth, 'bandwidth', true);
    if (bandwidth === 0) throw new RangeError('bandwidth must be > 0 bytes per second');
  }
  if (typeof chunking === 'number' && (!Number.isSafeInteger(chunking) || chunking < 1)) {
    throw new RangeError(`chunking must be a positive integer (bytes), got ${String(chunking)}`);
  }
  if (chunking !== undefined && typeof chunking !== 'number' && typeof chunking !== 'boolean') {
    throw new RangeError(`chunking must be a boolean or a number of bytes, got ${typeof chunking}`);
  }
  if (receiveWindow !== undefined && (!Number.isSafeInteger(receiveWindow) || receiveWindow < 1)) {
    throw new RangeError(
      `receiveWindow must be a positive integer (bytes), got ${String(receiveWindow)}`,
    );
  }
  for (const field of ['loss', 'duplication', 'reorder'] as const) {
    const p = conditions[field];
    if (p !== undefined && (typeof p !== 'number' || !(p >= 0 && p <= 1))) {
      throw new RangeError(`${field} must be a probability from 0 to 1, got ${String(p)}`);
    }
  }
  const { mtu } = conditions;
  if (mtu !== undefined && !(mtu === Infinity || (Number.isSafeInteger(mtu) && mtu >= 68))) {
    // 68 bytes: the smallest MTU IPv4 allows (RFC 791).
    throw new RangeError(`mtu must be an integer >= 68 (bytes) or Infinity, got ${String(mtu)}`);
  }
}

/**
 * Fills in each field from the most specific layer that sets it.
 * @param layers - most specific first (connection, host pair, network);
 *   `undefined` layers are skipped.
 */
export function resolveLinkConditions(
  ...layers: readonly (LinkConditions | undefined)[]
): ResolvedLinkConditions {
  const pick = <K extends keyof LinkConditions>(key: K): LinkConditions[K] | undefined => {
    for (const layer of layers) {
      const value = layer?.[key];
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const chunking = pick('chunking');
  return {
    latency: pick('latency') ?? DEFAULT_LINK_CONDITIONS.latency,
    bandwidth: pick('bandwidth') ?? DEFAULT_LINK_CONDITIONS.bandwidth,
    jitter: pick('jitter') ?? DEFAULT_LINK_CONDITIONS.jitter,
    chunkSize:
      chunking === undefined || chunking === false
        ? 0
        : chunking === true
          ? DEFAULT_CHUNK_SIZE
          : chunking,
    receiveWindow: pick('receiveWindow') ?? DEFAULT_LINK_CONDITIONS.receiveWindow,
    loss: pick('loss') ?? DEFAULT_LINK_CONDITIONS.loss,
    duplication: pick('duplication') ?? DEFAULT_LINK_CONDITIONS.duplication,
    reorder: pick('reorder') ?? DEFAULT_LINK_CONDITIONS.reorder,
    mtu: pick('mtu') ?? DEFAULT_LINK_CONDITIONS.mtu,
  };
}
