/**
 * `Pipe`: one direction of a simulated TCP connection. Bytes written by the
 * sending end wait in its send buffer, leave it as segments at the link's
 * bandwidth and only while the receiver's window has room, cross the link in
 * `latency` (plus jitter) seconds, and wait in the receive buffer until the
 * receiving end reads them. Segments arrive strictly in order; a partition
 * holds them (TCP would retransmit) until it heals.
 *
 * Tests: test/testing/simulated/simulated-transport.test.ts, test/testing/simulated/simulated-network.test.ts
 * @module
 */
import type { DelayedCall } from '../../delayed-call.js';
import type { ResolvedLinkConditions } from './simulated-link.js';
import type { SeededRandom } from '../seeded-random.js';

/** Largest segment on a link with finite bandwidth, so bytes leave the sender gradually. */
const MSS = 1460;

/** Marks the peer's FIN in a receive buffer. */
export const FIN: unique symbol = Symbol('FIN');

const EMPTY = Buffer.alloc(0);
const DATA = 0;
const FIN_SEGMENT = 1;
const RST = 2;
const SYN_ACK = 3;

interface Segment {
  readonly kind: number;
  readonly data: Buffer | null;
  arriveAt: number;
}

/**
 * What a pipe needs from the connection it belongs to.
 * @internal
 */
export interface PipeContext {
  now(): number;
  schedule<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall;
  conditions(): ResolvedLinkConditions;
  readonly random: SeededRandom;
  /** False while the two hosts of this pipe are partitioned. */
  reachable(): boolean;
  /** Calls `fn` once the partition between the two hosts heals. */
  whenReachable(fn: () => void): void;
  trace(kind: string, bytes?: number): void;
}

/**
 * The end that writes into a pipe.
 * @internal
 */
export interface PipeSender {
  /** The send buffer emptied and the link is idle. */
  _drained(): void;
  /** The FIN left (every byte written before it did too). */
  _finTransmitted(): void;
}

/**
 * The end that reads from a pipe.
 * @internal
 */
export interface PipeReceiver {
  /** True once the end is closed: data reaching it is answered with a reset. */
  readonly _gone: boolean;
  /** The connection was accepted (the client's SYN-ACK). */
  _synAckArrived(): void;
  /** Data or a FIN is waiting in the receive buffer. */
  _received(): void;
  /** The peer reset the connection. */
  _resetArrived(): void;
  /** Data reached this end after it closed. */
  _strayArrived(): void;
}

/**
 * One direction of a connection.
 * @internal
 */
export class Pipe {
  readonly #context: PipeContext;
  readonly #sender: PipeSender;
  readonly #receiver: PipeReceiver;

  #sendQueue: Buffer[] = [];
  #sendBytes = 0;
  #hadBytes = false;
  #finRequested = false;
  #finTransmitted = false;
  #resetSent = false;
  #credit: number;
  #pendingCredit = 0;
  #windowUpdate: DelayedCall | null = null;
  #linkFreeAt = 0;
  #transmitCall: DelayedCall | null = null;
  #transmitting = false;

  #inFlight: Segment[] = [];
  #lastArrival = 0;
  #arrivalCall: DelayedCall | null = null;
  #blocked = false;

  #receiveQueue: (Buffer | typeof FIN)[] = [];
  #receiveBytes = 0;

  constructor(context: PipeContext, sender: PipeSender, receiver: PipeReceiver) {
    this.#context = context;
    this.#sender = sender;
    this.#receiver = receiver;
    this.#credit = context.conditions().receiveWindow;
  }

  /** Bytes written and not yet sent. */
  get sendBufferSize(): number {
    return this.#sendBytes;
  }

  /** Bytes arrived and not yet read. */
  get receiveBufferSize(): number {
    return this.#receiveBytes;
  }

  /** Segments on the wire (or held by a partition). */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  // ------------------------------------------------------------ sending side

  /** Queues bytes (already copied by the caller) for sending. */
  write(data: Buffer): void {
    if (this.#finRequested || this.#resetSent || data.length === 0) return;
    this.#sendQueue.push(data);
    this.#sendBytes += data.length;
    this.#hadBytes = true;
    this.#scheduleTransmit();
  }

  /** Sends FIN once everything queued has left. */
  sendFin(): void {
    if (this.#finRequested || this.#resetSent) return;
    this.#finRequested = true;
    this.#scheduleTransmit();
  }

  /** Drops what is unsent and sends RST; nothing more is sent after it. */
  sendReset(): void {
    if (this.#resetSent) return;
    this.#resetSent = true;
    this.#dropSendQueue();
    this.#cancelTransmit();
    this.#context.trace('rst');
    this.#push(RST, null, Math.max(this.#context.now(), this.#linkFreeAt));
  }

  /** Sends the SYN-ACK that tells the client the connection was accepted. */
  sendSynAck(): void {
    this.#push(SYN_ACK, null, this.#context.now());
  }

  /** Forgets everything in both buffers and on the wire (a reset of the whole connection). */
  destroy(): void {
    this.#resetSent = true;
    this.#dropSendQueue();
    this.#cancelTransmit();
    this.#inFlight = [];
    this.#arrivalCall?.cancel();
    this.#arrivalCall = null;
    this.#windowUpdate?.cancel();
    this.#windowUpdate = null;
    this.#receiveQueue = [];
    this.#receiveBytes = 0;
  }

  #dropSendQueue(): void {
    this.#sendQueue = [];
    this.#sendBytes = 0;
    this.#hadBytes = false;
  }

  #cancelTransmit(): void {
    this.#transmitCall?.cancel();
    this.#transmitCall = null;
  }

  #scheduleTransmit(): void {
    if (this.#transmitCall !== null || this.#transmitting) return;
    const wait = Math.max(0, this.#linkFreeAt - this.#context.now());
    this.#transmitCall = this.#context.schedule(wait, Pipe.#transmitSoon, this);
  }

  static #transmitSoon(pipe: Pipe): void {
    pipe.#transmitCall = null;
    pipe.#transmit();
  }

  #transmit(): void {
    const context = this.#context;
    const now = context.now();
    this.#transmitting = true;
    try {
      while (this.#linkFreeAt <= now && !this.#resetSent) {
        if (this.#sendBytes > 0) {
          if (this.#credit <= 0) break; // the receiver's window is full: wait for it to read
          this.#sendSegment(now);
          continue;
        }
        if (this.#hadBytes) {
          this.#hadBytes = false;
          this.#sender._drained();
          continue; // the sender may have written more
        }
        if (this.#finRequested && !this.#finTransmitted) {
          this.#finTransmitted = true;
          context.trace('fin');
          this.#push(FIN_SEGMENT, null, now);
          this.#sender._finTransmitted();
        }
        break;
      }
    } finally {
      this.#transmitting = false;
    }
    const more =
      this.#sendBytes > 0 || this.#hadBytes || (this.#finRequested && !this.#finTransmitted);
    if (more && !this.#resetSent && (this.#linkFreeAt > now || this.#credit > 0)) {
      this.#scheduleTransmit();
    }
  }

  #sendSegment(now: number): void {
    const conditions = this.#context.conditions();
    let size = Math.min(this.#sendBytes, this.#credit);
    if (conditions.bandwidth !== Infinity) size = Math.min(size, MSS);
    if (conditions.chunkSize > 0) {
      size = Math.min(size, this.#context.random.integer(1, conditions.chunkSize));
    }
    const data = this.#take(size);
    this.#credit -= size;
    const start = Math.max(now, this.#linkFreeAt);
    this.#linkFreeAt = start + size / conditions.bandwidth;
    this.#context.trace('send', size);
    this.#push(DATA, data, this.#linkFreeAt);
  }

  #take(size: number): Buffer {
    const queue = this.#sendQueue;
    const first = queue[0];
    if (first?.length === size) {
      queue.shift();
      this.#sendBytes -= size;
      return first;
    }
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const head = queue[0];
      if (head === undefined) break;
      const n = Math.min(head.length, size - filled);
      head.copy(out, filled, 0, n);
      filled += n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    this.#sendBytes -= filled;
    return out;
  }

  /** Puts a segment on the wire, leaving at `leaveAt`; it arrives in order, after the latency. */
  #push(kind: number, data: Buffer | null, leaveAt: number): void {
    const conditions = this.#context.conditions();
    let arriveAt = leaveAt + conditions.latency;
    if (conditions.jitter > 0) arriveAt += this.#context.random.next() * conditions.jitter;
    arriveAt = Math.max(arriveAt, this.#lastArrival);
    this.#lastArrival = arriveAt;
    this.#inFlight.push({ kind, data, arriveAt });
    if (this.#inFlight.length === 1 && !this.#blocked) this.#scheduleArrival();
  }

  // ------------------------------------------------------------ the wire

  #scheduleArrival(): void {
    const head = this.#inFlight[0];
    if (head === undefined || this.#arrivalCall !== null) return;
    const wait = Math.max(0, head.arriveAt - this.#context.now());
    this.#arrivalCall = this.#context.schedule(wait, Pipe.#arriveSoon, this);
  }

  static #arriveSoon(pipe: Pipe): void {
    pipe.#arrivalCall = null;
    pipe.#arrive();
  }

  #arrive(): void {
    const context = this.#context;
    const now = context.now();
    const receiver = this.#receiver;
    let received = false;
    for (
      let head = this.#inFlight[0];
      head !== undefined && head.arriveAt <= now;
      head = this.#inFlight[0]
    ) {
      if (!context.reachable()) {
        // Held, not lost: TCP keeps retransmitting until the path is back.
        this.#blocked = true;
        context.whenReachable(() => {
          this.#healed();
        });
        break;
      }
      const segment = head;
      this.#inFlight.shift();
      if (segment.kind === RST) {
        this.#receiveQueue = [];
        this.#receiveBytes = 0;
        received = false;
        receiver._resetArrived();
        continue;
      }
      if (receiver._gone) {
        if (segment.kind === DATA || segment.kind === SYN_ACK) receiver._strayArrived();
        continue;
      }
      if (segment.kind === SYN_ACK) {
        receiver._synAckArrived();
      } else if (segment.kind === DATA) {
        const data = segment.data ?? EMPTY;
        context.trace('deliver', data.length);
        this.#receiveQueue.push(data);
        this.#receiveBytes += data.length;
        received = true;
      } else {
        this.#receiveQueue.push(FIN);
        received = true;
      }
    }
    if (received) receiver._received();
    if (!this.#blocked) this.#scheduleArrival();
  }

  #healed(): void {
    this.#blocked = false;
    // Retransmitted now: what was held arrives one latency after the heal, still in order.
    const earliest = this.#context.now() + this.#context.conditions().latency;
    for (const segment of this.#inFlight) {
      if (segment.arriveAt < earliest) segment.arriveAt = earliest;
    }
    if (this.#lastArrival < earliest && this.#inFlight.length > 0) this.#lastArrival = earliest;
    this.#scheduleArrival();
  }

  // ------------------------------------------------------------ receiving side

  /** The next item of the receive buffer (bytes or the peer's FIN), or `undefined`. */
  takeReceived(): Buffer | typeof FIN | undefined {
    const item = this.#receiveQueue.shift();
    if (item !== undefined && item !== FIN) {
      this.#receiveBytes -= item.length;
      this.#returnCredit(item.length);
    }
    return item;
  }

  /** Frees window space once the receiving end has read bytes; the sender hears of it after one latency. */
  #returnCredit(bytes: number): void {
    this.#pendingCredit += bytes;
    if (this.#windowUpdate !== null) return;
    const latency = this.#context.conditions().latency;
    this.#windowUpdate = this.#context.schedule(latency, Pipe.#windowUpdated, this);
  }

  static #windowUpdated(pipe: Pipe): void {
    pipe.#windowUpdate = null;
    if (!pipe.#context.reachable()) {
      pipe.#context.whenReachable(() => {
        const latency = pipe.#context.conditions().latency;
        pipe.#windowUpdate ??= pipe.#context.schedule(latency, Pipe.#windowUpdated, pipe);
      });
      return;
    }
    pipe.#credit += pipe.#pendingCredit;
    pipe.#pendingCredit = 0;
    if (pipe.#sendBytes > 0) pipe.#scheduleTransmit();
  }
}
