/**
 * The timer queue behind every reactor's `callLater` and behind `Clock`: a
 * 4-ary min-heap of (time, sequence) keys with lazy deletion.
 *
 * Why this shape (measured with bench/call-later.ts at a million calls):
 * - Keys live in two `Float64Array`s next to an array of calls, so sifting
 *   compares adjacent numbers instead of dereferencing a DelayedCall per
 *   comparison; with the objects themselves in the heap, cache misses
 *   dominated. Typed arrays grow by doubling far more cheaply than plain
 *   arrays, and their capacity is kept until the heap empties or is
 *   compacted, so bursts do not pay for shrinking and re-growing.
 * - Four children per node halves the depth of a binary heap, and the four
 *   keys compared at each level sit in the same cache line.
 * - Cancel is O(1): it only marks the call. `reset`/`delay` mark the old entry
 *   stale (the call's sequence number no longer matches it) and push a new one,
 *   O(log n). `nextTime()` drops stale entries that reached the top (each
 *   once, so it is amortised O(1) and always exact), and the heap is compacted
 *   (filter + O(n) heapify) once stale entries outnumber live ones.
 * - Compaction never runs inside `cancel()`: it waits for the queue's next
 *   use (schedule, move, `nextTime`, `runDue`, `pending`). A burst of cancels
 *   that empties the queue (a server dropping every connection's timeout)
 *   then costs O(1) each instead of a compaction pass per halving, which was
 *   three quarters of the cost of cancelling a million calls. The owner calls
 *   `nextTime()` or `runDue()` at the latest when its timer fires, so a
 *   cancelled call's function and arguments are released by then, and the
 *   heap holds about twice the active calls between uses.
 * - Because the earliest time only ever needs announcing when it moves
 *   earlier, cancelling or postponing the earliest call costs the owner no OS
 *   timer re-arm (see {@link TimerQueue.onEarliestChanged}).
 * - An indexed heap (each call knowing its slot) would make cancel O(log n) and
 *   cost a write into a scattered object on every sift step; a sorted array
 *   would make scheduling O(n).
 * The hot path allocates nothing but the DelayedCall itself (the arrays grow
 * by doubling, amortised O(1)).
 *
 * Tests: test/timer-queue.test.ts
 * @module
 */
/* eslint-disable @typescript-eslint/no-non-null-assertion -- slots below #length are always filled; checking would cost on every sift step */
import { CALLED, CANCELLED, DelayedCall, IN_HEAP, PARKED, validateDelay } from '../delayed-call.js';
import { describeType } from './write-data.js';

const MIN_CAPACITY = 64;
/** Below this many stale entries compaction is not worth a pass over the heap. */
const MIN_STALE_FOR_COMPACTION = 64;

/**
 * A priority queue of delayed calls against a time source. A reactor owns one
 * and drives it with a single OS timer; `Clock` owns one and drives it by hand.
 *
 * @remarks
 * Calls scheduled (or reset/delayed) while {@link TimerQueue.runDue} runs are
 * parked and join the heap when it returns, so they never run in the same
 * `runDue`: a function that keeps re-scheduling itself with delay 0 cannot
 * starve I/O. While parked they count in `size` and `pending()` but not in
 * `nextTime()`.
 */
export class TimerQueue {
  /**
   * Set by the owner (the reactor) to re-arm its single OS timer for
   * `nextTime()`. Called synchronously when the earliest time moved earlier
   * (schedule, reset, delay) or the queue became empty (cancel), but never
   * while `runDue` runs: the owner re-arms after `runDue` returns.
   *
   * When the earliest time moves later (its call was cancelled, reset or
   * delayed) there is no call: the owner's timer then fires early, `runDue`
   * finds nothing due, and the owner re-arms. That keeps cancel O(1) and
   * spares the OS timer a re-arm for every cancel or reset of an idle timeout
   * (Twisted lengthens timers lazily for the same reason). Invariant: every
   * active call is due no earlier than the time the owner last armed for.
   */
  onEarliestChanged: (() => void) | null = null;

  readonly #now: () => number;
  // The heap: entry i is (#times[i], #seqs[i], #calls[i]). An entry is live
  // when its call is IN_HEAP and the call's _seq still equals #seqs[i].
  #times = new Float64Array(MIN_CAPACITY);
  #seqs = new Float64Array(MIN_CAPACITY);
  readonly #calls: DelayedCall[] = [];
  #length = 0;
  /** Heap entries that are no longer live (cancelled or superseded by a move). */
  #stale = 0;
  /** Calls scheduled or moved during `runDue` (some may since have been cancelled). */
  #parked: DelayedCall[] = [];
  #seq = 0;
  #size = 0;
  /** How many `runDue` invocations are on the stack (a call may drive a Clock that drives its queue). */
  #running = 0;

  /**
   * @param now - The current time in seconds: monotonic for a real reactor,
   *   virtual for `Clock`.
   */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** How many calls are active (scheduled, not run, not cancelled). */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules `fn(...args)` `delaySeconds` from now.
   * @param delaySeconds - A finite number of seconds, zero or more.
   * @param fn - The function to call.
   * @param args - Its arguments; stored as given, not copied.
   * @returns The call's handle.
   * @throws RangeError if `delaySeconds` is negative or not a finite number.
   * @throws TypeError if `fn` is not a function.
   */
  schedule<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    args: A,
  ): DelayedCall<A> {
    validateDelay(delaySeconds, 'callLater');
    if (typeof fn !== 'function') {
      throw new TypeError(`callLater() needs a function, got ${describeType(fn)}`);
    }
    this.#maybeCompact();
    const call = new DelayedCall<A>(this, this.#now() + delaySeconds, this.#seq++, fn, args);
    this.#size++;
    if (this.#running > 0) {
      call._state = PARKED;
      this.#parked.push(call);
    } else if (this.#push(call) === 0) {
      this.#earliestChanged();
    }
    return call;
  }

  /**
   * Earliest scheduled time among the active calls in the heap, or `undefined`
   * when there is none. Amortised O(1): cancelled entries that reached the top
   * are dropped here, each once.
   */
  nextTime(): number | undefined {
    this.#maybeCompact();
    while (this.#length > 0) {
      const call = this.#calls[0]!;
      if (call._state === IN_HEAP && call._seq === this.#seqs[0]) return this.#times[0];
      this.#popTop();
      this.#stale--;
    }
    return undefined;
  }

  /**
   * Runs every active call due at or before `now()` (read once, at the start),
   * in (time, scheduling order) order. Calls scheduled while this runs wait for
   * the next invocation.
   * @param onError - Receives an exception thrown by a call; the run then
   *   continues. If `onError` itself throws, the run stops and the exception
   *   propagates (the calls not yet run stay scheduled).
   * @returns How many calls ran.
   */
  runDue(onError: (error: unknown, call: DelayedCall) => void): number {
    if (this.#length === 0) return 0;
    this.#maybeCompact();
    const now = this.#now();
    let ran = 0;
    this.#running++;
    try {
      // Fields are re-read on every turn: a call may cancel others, which can
      // compact (and shrink) the heap under this loop.
      while (this.#length > 0 && this.#times[0]! <= now) {
        const call = this.#calls[0]!;
        const live = call._state === IN_HEAP && call._seq === this.#seqs[0];
        this.#popTop();
        if (!live) {
          this.#stale--;
          continue;
        }
        // Marked before running, as Twisted does: the function may inspect or
        // (wrongly) try to cancel its own call and must see it as called.
        call._state = CALLED;
        this.#size--;
        ran++;
        const fn = call.func;
        const args = call.args;
        try {
          if (args.length === 0) fn();
          else fn(...args);
        } catch (error) {
          onError(error, call);
        }
      }
    } finally {
      if (--this.#running === 0 && this.#parked.length > 0) this.#admitParked();
    }
    return ran;
  }

  /** Active calls, in no particular order. */
  pending(): DelayedCall[] {
    this.#maybeCompact();
    const calls: DelayedCall[] = [];
    for (let i = 0; i < this.#length; i++) {
      const call = this.#calls[i]!;
      if (call._state === IN_HEAP && call._seq === this.#seqs[i]) calls.push(call);
    }
    for (const call of this.#parked) {
      if (call._state === PARKED) calls.push(call);
    }
    return calls;
  }

  /** Heap entries, live and stale: lets tests see when compaction runs. */
  get _heapLength(): number {
    return this.#length;
  }

  /** @internal The queue's current time (used by `DelayedCall.reset`). */
  _now(): number {
    return this.#now();
  }

  /**
   * @internal Cancels an active call. O(1): its heap entry turns stale and
   * leaves at the next compaction or when it reaches the top.
   */
  _cancel(call: DelayedCall): void {
    const inHeap = call._state === IN_HEAP;
    call._state = CANCELLED;
    this.#size--;
    // A parked call is simply skipped when the parked calls join the heap.
    if (!inHeap) return;
    this.#stale++;
    if (this.#size === 0 && this.#running === 0) {
      // Nothing is left: empty the heap at once so the owner can disarm its
      // timer (a pending OS timer would keep the process alive).
      this.#clear();
      this.#earliestChanged();
    }
  }

  /** @internal Reschedules an active call to `time`, as if newly scheduled (new sequence number). */
  _move(call: DelayedCall, time: number): void {
    const wasInHeap = call._state === IN_HEAP;
    call._time = time;
    call._seq = this.#seq++;
    // The old entry, if any, no longer matches the call's sequence number.
    if (wasInHeap) this.#stale++;
    if (this.#running > 0) {
      if (call._state !== PARKED) {
        call._state = PARKED;
        this.#parked.push(call);
      }
    } else if (this.#push(call) === 0) {
      this.#earliestChanged();
    }
    this.#maybeCompact();
  }

  #earliestChanged(): void {
    const callback = this.onEarliestChanged;
    if (callback !== null) callback();
  }

  #admitParked(): void {
    const parked = this.#parked;
    this.#parked = [];
    for (const call of parked) {
      // Cancelled parked calls are CANCELLED; a call moved twice appears once.
      if (call._state === PARKED) this.#push(call);
    }
  }

  /** Adds a heap entry for `call` at its current time and sequence; returns its final slot. */
  #push(call: DelayedCall): number {
    call._state = IN_HEAP;
    if (this.#length === this.#times.length) this.#resize(this.#length * 2);
    this.#calls.push(call);
    return this.#siftUp(this.#length++, call._time, call._seq, call);
  }

  /** Removes the top entry. */
  #popTop(): void {
    const last = --this.#length;
    const lastCall = this.#calls.pop()!;
    if (last > 0) this.#siftDown(0, this.#times[last]!, this.#seqs[last]!, lastCall);
    // Capacity is kept while calls come and go (re-growing is what costs) and
    // given back once the heap is empty.
    else if (this.#times.length > MIN_CAPACITY) this.#resize(MIN_CAPACITY);
  }

  /** Drops every entry (all are stale). */
  #clear(): void {
    this.#length = 0;
    this.#stale = 0;
    this.#calls.length = 0;
    if (this.#times.length > MIN_CAPACITY) this.#resize(MIN_CAPACITY);
  }

  /** Rebuilds the heap from its live entries once stale ones are the majority. */
  #maybeCompact(): void {
    if (this.#stale < MIN_STALE_FOR_COMPACTION || this.#stale * 2 <= this.#length) return;
    const times = this.#times;
    const seqs = this.#seqs;
    const calls = this.#calls;
    let kept = 0;
    for (let i = 0; i < this.#length; i++) {
      const call = calls[i]!;
      if (call._state === IN_HEAP && call._seq === seqs[i]) {
        times[kept] = times[i]!;
        seqs[kept] = seqs[i]!;
        calls[kept] = call;
        kept++;
      }
    }
    calls.length = kept;
    this.#length = kept;
    this.#stale = 0;
    // Floyd's heapify: sift down every internal node, last parent first.
    for (let i = (kept - 2) >> 2; i >= 0; i--) {
      this.#siftDown(i, times[i]!, seqs[i]!, calls[i]!);
    }
    let capacity = times.length;
    while (capacity > MIN_CAPACITY && kept < capacity >>> 2) capacity >>>= 1;
    if (capacity !== times.length) this.#resize(capacity);
  }

  /** Reallocates the key arrays with room for `capacity` entries (at least #length). */
  #resize(capacity: number): void {
    const times = new Float64Array(capacity);
    const seqs = new Float64Array(capacity);
    times.set(this.#times.subarray(0, this.#length));
    seqs.set(this.#seqs.subarray(0, this.#length));
    this.#times = times;
    this.#seqs = seqs;
  }

  /** Places the entry (time, seq, call) at `index` or above; returns its slot. */
  #siftUp(index: number, time: number, seq: number, call: DelayedCall): number {
    const times = this.#times;
    const seqs = this.#seqs;
    const calls = this.#calls;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >>> 2;
      const parentTime = times[parent]!;
      if (parentTime < time || (parentTime === time && seqs[parent]! < seq)) break;
      times[i] = parentTime;
      seqs[i] = seqs[parent]!;
      calls[i] = calls[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    calls[i] = call;
    return i;
  }

  /** Places the entry (time, seq, call) at `index` or below, within #length. */
  #siftDown(index: number, time: number, seq: number, call: DelayedCall): void {
    const times = this.#times;
    const seqs = this.#seqs;
    const calls = this.#calls;
    const length = this.#length;
    let i = index;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= length) break;
      // The smallest of up to four children.
      let best = first;
      let bestTime = times[first]!;
      let bestSeq = seqs[first]!;
      const end = first + 4 < length ? first + 4 : length;
      for (let c = first + 1; c < end; c++) {
        const t = times[c]!;
        if (t < bestTime || (t === bestTime && seqs[c]! < bestSeq)) {
          best = c;
          bestTime = t;
          bestSeq = seqs[c]!;
        }
      }
      if (time < bestTime || (time === bestTime && seq < bestSeq)) break;
      times[i] = bestTime;
      seqs[i] = bestSeq;
      calls[i] = calls[best]!;
      i = best;
    }
    times[i] = time;
    seqs[i] = seq;
    calls[i] = call;
  }
}
