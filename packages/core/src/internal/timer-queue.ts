/**
 * The timer queue behind every reactor's `callLater` and behind `Clock`:
 * calls grouped in lists by delay, and a 4-ary min-heap of those lists.
 *
 * Why this shape (measured with bench/call-later.ts at a million calls):
 * - Calls scheduled with the same delay fall due in the order they were
 *   scheduled, because the time they count from never goes backwards. So a
 *   doubly-linked list per delay (the way Node keeps its timers) is already
 *   sorted: scheduling appends in O(1) and cancelling unlinks in O(1), and
 *   only the lists, usually a handful (one per timeout setting in a program),
 *   sit in the heap. A heap of every call cost a large JavaScript array of
 *   pointers to young objects, which the garbage collector scanned again and
 *   again while a million calls were pending.
 * - A call holds no double of its own: V8 boxes a double-valued field in a
 *   separate heap object, and that box per call was the next largest cost.
 *   Its due time is `base.t + list.delay`, where `base` is shared by every
 *   call scheduled at the same instant (a whole job, see NodeReactor).
 * - The heap of lists keeps its keys (head time, head sequence) in two
 *   `Float64Array`s, so sifting compares adjacent numbers; each list knows
 *   its slot, so a list whose head changed is re-sifted in place.
 * - A list only ever gets later calls at its tail. A call placed by `delay()`
 *   (any time at all) gets a list of its own, and so does a call whose base
 *   is earlier than its list's tail (a clock that went backwards): order is
 *   exact whatever the times, at worst O(log n) per call as in a plain heap.
 * - Cancelled calls leave at once, so nothing stale is kept and no compaction
 *   pass is ever needed.
 * - The earliest time only needs announcing when it moves earlier, so
 *   cancelling or postponing the earliest call costs the owner no timer
 *   re-arm (see {@link TimerQueue.onEarliestChanged}).
 * The hot path allocates nothing but the DelayedCall itself (plus, rarely, a
 * list, and a base per instant at which calls are scheduled).
 *
 * Tests: test/timer-queue.test.ts
 * @module
 */
/* eslint-disable @typescript-eslint/no-non-null-assertion -- slots below #length are always filled; checking would cost on every sift step */
import {
  CALLED,
  CANCELLED,
  DelayedCall,
  LINKED,
  PARKED,
  type TimeBase,
  validateDelay,
} from '../delayed-call.js';
import { describeType } from '../describe-type.js';

const MIN_CAPACITY = 16;
/**
 * How many distinct delays get a shared list. Past that (delays drawn at
 * random, say) a call gets a list of its own: indexing a million one-call
 * lists by delay cost more than the lists saved.
 */
const MAX_INDEXED_DELAYS = 64;

/**
 * Calls due in list order: each call's time is `call._base.t + delay`, and
 * the bases only increase from head to tail.
 * @internal
 */
export class TimerList {
  readonly queue: TimerQueue;
  /** Seconds added to each call's base. */
  readonly delay: number;
  /** A list of one call (placed by `delay()`, or of a delay past the index): never appended to. */
  readonly single: boolean;
  head: DelayedCall | null = null;
  tail: DelayedCall | null = null;
  /** Slot in the queue's heap of lists, or -1 while the list is empty. */
  heapIndex = -1;

  constructor(queue: TimerQueue, delay: number, single: boolean) {
    this.queue = queue;
    this.delay = delay;
    this.single = single;
  }
}

/**
 * A priority queue of delayed calls against a time source. A reactor owns one
 * and drives it with a single OS timer; `Clock` owns one and drives it by hand.
 *
 * @remarks
 * Calls scheduled (or reset/delayed) while {@link TimerQueue.runDue} runs are
 * parked and join their lists when it returns, so they never run in the same
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
   * finds nothing due, and the owner re-arms. That spares the OS timer a
   * re-arm for every cancel or reset of an idle timeout (Twisted lengthens
   * timers lazily for the same reason). Invariant: every active call is due
   * no earlier than the time the owner last armed for.
   */
  onEarliestChanged: (() => void) | null = null;

  readonly #now: () => number;
  readonly #schedulingNow: () => number;
  /** The list that new calls with a given delay are appended to. */
  readonly #byDelay = new Map<number, TimerList>();
  /** The base of the calls scheduled most recently; reused while the time stands still. */
  #base: TimeBase = { t: NaN };
  // The heap of non-empty lists: entry i is (#times[i], #seqs[i], #lists[i]),
  // the time and sequence number of that list's head call.
  #times = new Float64Array(MIN_CAPACITY);
  #seqs = new Float64Array(MIN_CAPACITY);
  readonly #lists: TimerList[] = [];
  #length = 0;
  /** Calls scheduled or moved during `runDue` (some may since have been cancelled). */
  #parked: DelayedCall[] = [];
  #seq = 0;
  #size = 0;
  /** How many `runDue` invocations are on the stack (a call may drive a Clock that drives its queue). */
  #running = 0;

  /**
   * @param now - The current time in seconds: monotonic for a real reactor,
   *   virtual for `Clock`. `runDue` reads it once per run.
   * @param schedulingNow - The time new and reset calls count their delay
   *   from; `now` unless the owner caches it (see NodeReactor).
   */
  constructor(now: () => number, schedulingNow: () => number = now) {
    this.#now = now;
    this.#schedulingNow = schedulingNow;
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
    const call = new DelayedCall<A>(
      this.#listFor(delaySeconds),
      this.#currentBase(),
      this.#seq++,
      fn,
      args,
    );
    this.#size++;
    this.#place(call);
    return call;
  }

  /**
   * Earliest scheduled time among the active calls (parked ones aside), or
   * `undefined` when there is none. O(1).
   */
  nextTime(): number | undefined {
    return this.#length > 0 ? this.#times[0] : undefined;
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
    const now = this.#now();
    let ran = 0;
    this.#running++;
    try {
      // The top is re-read on every turn: a call may cancel others.
      while (this.#length > 0 && this.#times[0]! <= now) {
        const call = this.#lists[0]!.head!;
        this.#unlink(call);
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
    const calls: DelayedCall[] = [];
    for (let i = 0; i < this.#length; i++) {
      for (let call = this.#lists[i]!.head; call !== null; call = call._next) calls.push(call);
    }
    for (const call of this.#parked) {
      if (call._state === PARKED) calls.push(call);
    }
    return calls;
  }

  /** Non-empty lists in the heap: lets tests see how calls are grouped. */
  get _listCount(): number {
    return this.#length;
  }

  /** @internal Cancels an active call: O(1), it leaves its list at once. */
  _cancel(call: DelayedCall): void {
    const linked = call._state === LINKED;
    call._state = CANCELLED;
    this.#size--;
    if (!linked) {
      // A parked call is skipped when the parked calls join their lists; its
      // list may be an empty one made for it, which must not linger.
      this.#forgetIfEmpty(call._list);
      return;
    }
    this.#unlink(call);
    // Nothing is left: tell the owner, so it can disarm its timer (a pending
    // OS timer would keep the process alive).
    if (this.#size === 0 && this.#running === 0) this.#earliestChanged();
  }

  /** @internal Reschedules an active call `seconds` from now, as if newly scheduled. */
  _reset(call: DelayedCall, seconds: number): void {
    this.#move(call, this.#listFor(seconds), this.#currentBase());
  }

  /** @internal Reschedules an active call to the absolute `time`, as if newly scheduled. */
  _delay(call: DelayedCall, time: number): void {
    this.#move(call, new TimerList(this, 0, true), { t: time });
  }

  #move(call: DelayedCall, list: TimerList, base: TimeBase): void {
    if (call._state === LINKED) this.#unlink(call);
    call._list = list;
    call._base = base;
    call._seq = this.#seq++;
    if (call._state !== PARKED) this.#place(call);
  }

  /** The list for calls `delay` seconds after their base (created on first use). */
  #listFor(delay: number): TimerList {
    let list = this.#byDelay.get(delay);
    if (list === undefined) {
      if (this.#byDelay.size >= MAX_INDEXED_DELAYS) return new TimerList(this, delay, true);
      list = new TimerList(this, delay, false);
      this.#byDelay.set(delay, list);
    }
    return list;
  }

  #currentBase(): TimeBase {
    const t = this.#schedulingNow();
    let base = this.#base;
    if (base.t !== t) base = this.#base = { t };
    return base;
  }

  /** Puts a new or moved call in its list now, or parks it during a run. */
  #place(call: DelayedCall): void {
    if (this.#running > 0) {
      call._state = PARKED;
      this.#parked.push(call);
    } else {
      this.#link(call, true);
    }
  }

  #admitParked(): void {
    const parked = this.#parked;
    this.#parked = [];
    for (const call of parked) {
      // Cancelled parked calls are CANCELLED; a call moved twice appears once.
      // The owner re-arms once runDue returns: no announcement from here.
      if (call._state === PARKED) this.#link(call, false);
    }
  }

  /**
   * Appends `call` to the tail of its list (or of a fresh one, see below);
   * tells the owner if that made it the earliest call and `announce` is set.
   */
  #link(call: DelayedCall, announce: boolean): void {
    let list = call._list;
    const tail = list.tail;
    if (tail !== null && (list.single || tail._base.t > call._base.t)) {
      // Appending would break the list's order: start a new list, which
      // takes over new calls of this delay. The old one drains as it is.
      list = new TimerList(this, list.delay, list.single);
      if (!list.single) this.#byDelay.set(list.delay, list);
      call._list = list;
    }
    call._state = LINKED;
    const last = list.tail;
    call._prev = last;
    call._next = null;
    if (last === null) {
      list.head = list.tail = call;
      if (this.#heapInsert(list) === 0 && announce) this.#earliestChanged();
    } else {
      last._next = call;
      list.tail = call;
    }
  }

  /** Takes `call` out of its list; the list is re-sifted or leaves the heap. */
  #unlink(call: DelayedCall): void {
    const list = call._list;
    const prev = call._prev;
    const next = call._next;
    if (prev === null) list.head = next;
    else prev._next = next;
    if (next === null) list.tail = prev;
    else next._prev = prev;
    call._prev = call._next = null;
    if (prev !== null) return;
    // The head changed: the list's key moved later, or the list emptied.
    if (next === null) {
      this.#heapRemove(list);
      this.#forgetIfEmpty(list);
    } else {
      const i = list.heapIndex;
      this.#siftDown(i, next._base.t + list.delay, next._seq, list);
    }
  }

  /** Drops an empty list from the by-delay index, so unused delays leave nothing behind. */
  #forgetIfEmpty(list: TimerList): void {
    if (list.head === null && this.#byDelay.get(list.delay) === list) {
      this.#byDelay.delete(list.delay);
    }
  }

  #earliestChanged(): void {
    const callback = this.onEarliestChanged;
    if (callback !== null) callback();
  }

  // ---------------------------------------------------------------- heap of lists

  /** Adds a list whose head was just set; returns its final slot. */
  #heapInsert(list: TimerList): number {
    if (this.#length === this.#times.length) this.#resize(this.#length * 2);
    const head = list.head!;
    this.#lists.push(list);
    return this.#siftUp(this.#length++, head._base.t + list.delay, head._seq, list);
  }

  /** Removes an emptied list from the heap. */
  #heapRemove(list: TimerList): void {
    const index = list.heapIndex;
    list.heapIndex = -1;
    const last = --this.#length;
    const lastList = this.#lists.pop()!;
    if (index !== last) {
      const time = this.#times[last]!;
      const seq = this.#seqs[last]!;
      const parent = (index - 1) >>> 2;
      if (
        index > 0 &&
        (time < this.#times[parent]! || (time === this.#times[parent] && seq < this.#seqs[parent]!))
      ) {
        this.#siftUp(index, time, seq, lastList);
      } else {
        this.#siftDown(index, time, seq, lastList);
      }
    }
    // Capacity is given back once the heap is nearly empty.
    if (this.#length < this.#times.length >>> 2 && this.#times.length > MIN_CAPACITY) {
      this.#resize(this.#times.length >>> 1);
    }
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

  /** Places the entry (time, seq, list) at `index` or above; returns its slot. */
  #siftUp(index: number, time: number, seq: number, list: TimerList): number {
    const times = this.#times;
    const seqs = this.#seqs;
    const lists = this.#lists;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >>> 2;
      const parentTime = times[parent]!;
      if (parentTime < time || (parentTime === time && seqs[parent]! < seq)) break;
      times[i] = parentTime;
      seqs[i] = seqs[parent]!;
      const moved = lists[parent]!;
      lists[i] = moved;
      moved.heapIndex = i;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    lists[i] = list;
    list.heapIndex = i;
    return i;
  }

  /** Places the entry (time, seq, list) at `index` or below, within #length. */
  #siftDown(index: number, time: number, seq: number, list: TimerList): void {
    const times = this.#times;
    const seqs = this.#seqs;
    const lists = this.#lists;
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
      const moved = lists[best]!;
      lists[i] = moved;
      moved.heapIndex = i;
      i = best;
    }
    times[i] = time;
    seqs[i] = seq;
    lists[i] = list;
    list.heapIndex = i;
  }
}
