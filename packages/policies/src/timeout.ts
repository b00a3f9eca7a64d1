/**
 * Idle timeouts: {@link TimeoutHelper} (a composable object any protocol can
 * hold), {@link TimeoutMixin} (a class mixin over any protocol base class,
 * Twisted's `TimeoutMixin`), and {@link TimeoutFactory} (a wrapping factory
 * that closes idle connections of any factory).
 *
 * Tests: test/timeout.test.ts, test/timeout.integration.test.ts
 * @module
 */
import {
  getReactor,
  Logger,
  type IAddress,
  type IDelayedCall,
  type IProtocol,
  type IProtocolFactory,
  type IReactorTime,
  type ITransport,
  type Failure,
  type WriteData,
} from '@torsion/core';

import { ProtocolWrapper } from './protocol-wrapper.js';
import { WrappingFactory } from './wrapping-factory.js';

const log = new Logger('torsion.policies.timeout');

/** Seconds between `loseConnection()` and `abortConnection()` when a timed-out peer does not read what is left. */
export const DEFAULT_ABORT_GRACE = 5;

/** Checks a timeout in seconds: null, or a finite number above zero. */
function checkSeconds(field: string, seconds: number | null): void {
  if (seconds === null) return;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new RangeError(
      `${field} must be a finite number of seconds above 0, or null; got ${String(seconds)}`,
    );
  }
}

/**
 * One resettable timer: after `seconds` without a {@link TimeoutHelper.resetTimeout},
 * `onTimeout` runs once. Hold one in any protocol (composition, no base class
 * needed); call `resetTimeout()` on activity and `cancel()` in `connectionLost`.
 */
export class TimeoutHelper {
  #seconds: number | null = null;
  #call: IDelayedCall | null = null;
  #abort: IDelayedCall | null = null;

  /**
   * @param clock - schedules the timer (a reactor, or a `Clock` in tests).
   * @param onTimeout - runs when the timer fires.
   */
  constructor(
    readonly clock: IReactorTime,
    private readonly onTimeout: () => void,
  ) {}

  /** The current timeout in seconds; null when none is set. */
  get timeOut(): number | null {
    return this.#seconds;
  }

  /**
   * Sets the timeout, counted from now; `null` turns it off.
   * @returns the previous timeout.
   * @throws RangeError if `seconds` is not a finite number above 0 or null.
   */
  setTimeout(seconds: number | null): number | null {
    checkSeconds('setTimeout(seconds)', seconds);
    const previous = this.#seconds;
    this.#seconds = seconds;
    this.#call?.cancel();
    this.#call = null;
    if (seconds !== null) this.#call = this.clock.callLater(seconds, () => this.#fire());
    return previous;
  }

  /** Starts the count again from now; does nothing when no timeout is set. */
  resetTimeout(): void {
    if (this.#seconds === null || this.#call === null) return;
    this.#call.reset(this.#seconds);
  }

  /**
   * Closes `transport` for a timeout: `loseConnection()` at once (what was
   * written is flushed), then `abortConnection()` after `graceSeconds` if the
   * transport has it, for a peer that stops reading. {@link TimeoutHelper.cancel}
   * (from `connectionLost`) cancels the abort.
   */
  closeTransport(transport: ITransport, graceSeconds = DEFAULT_ABORT_GRACE): void {
    transport.loseConnection();
    const abort = (transport as Partial<{ abortConnection(): void }>).abortConnection;
    if (typeof abort === 'function' && this.#abort === null) {
      this.#abort = this.clock.callLater(graceSeconds, () => {
        this.#abort = null;
        abort.call(transport);
      });
    }
  }

  /** Turns the timer off and cancels a pending abort; call it from `connectionLost`. */
  cancel(): void {
    this.#call?.cancel();
    this.#call = null;
    this.#seconds = null;
    this.#abort?.cancel();
    this.#abort = null;
  }

  #fire(): void {
    this.#call = null;
    this.#seconds = null;
    this.onTimeout();
  }
}

/** What {@link TimeoutMixin} needs from the class it extends. */
export interface TimeoutBase extends IProtocol {
  readonly transport: ITransport;
}

/** A class whose instances are {@link TimeoutBase}; the mixin keeps its constructor's parameters. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's constructor must take any arguments
export type TimeoutBaseClass = abstract new (...args: any[]) => TimeoutBase;

/** The members {@link TimeoutMixin} adds. */
export interface TimeoutMembers {
  /** The clock the timer uses; the installed reactor unless set before the first `setTimeout`. */
  timeoutClock: IReactorTime | null;
  /** Seconds from `loseConnection()` to `abortConnection()` on a timeout. */
  timeoutAbortGrace: number;
  /** The current timeout in seconds; null when none is set. */
  readonly timeOut: number | null;
  /** Sets the timeout counted from now (`null`: off); returns the previous one. */
  setTimeout(seconds: number | null): number | null;
  /** Starts the count again from now; nothing when no timeout is set. */
  resetTimeout(): void;
  /** Called when the timeout passes. Default: close, then abort after the grace. Override to say goodbye first. */
  timeoutConnection(): void;
}

/**
 * Adds Twisted's `TimeoutMixin` members to any protocol class without giving
 * up its base class: `class Session extends TimeoutMixin(LineReceiver) {…}`.
 * Call `this.setTimeout(seconds)` (in `connectionMade`, say) and
 * `this.resetTimeout()` on activity; the timer is cancelled when the
 * connection is lost.
 *
 * @remarks Resetting on every byte lets a peer that trickles one byte at a
 * time stay forever; to bound how long a request may take, set a timeout
 * when it starts and reset only when it completes.
 */
export function TimeoutMixin<TBase extends TimeoutBaseClass>(
  Base: TBase,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's constructor must take any arguments
): TBase & (abstract new (...args: any[]) => TimeoutMembers) {
  abstract class Timed extends Base implements TimeoutMembers {
    timeoutClock: IReactorTime | null = null;
    timeoutAbortGrace = DEFAULT_ABORT_GRACE;
    #helper: TimeoutHelper | null = null;

    #timer(): TimeoutHelper {
      this.#helper ??= new TimeoutHelper(this.timeoutClock ?? getReactor(), () => {
        this.timeoutConnection();
      });
      return this.#helper;
    }

    get timeOut(): number | null {
      return this.#helper?.timeOut ?? null;
    }

    setTimeout(seconds: number | null): number | null {
      return this.#timer().setTimeout(seconds);
    }

    resetTimeout(): void {
      this.#helper?.resetTimeout();
    }

    timeoutConnection(): void {
      this.#timer().closeTransport(this.transport, this.timeoutAbortGrace);
    }

    override connectionLost(reason: Failure): void {
      this.#helper?.cancel();
      super.connectionLost(reason);
    }
  }
  return Timed;
}

/** Options for {@link TimeoutFactory}. */
export interface TimeoutFactoryOptions {
  /** Seconds without a byte in either direction before the connection is closed. Default 30 minutes, as Twisted. */
  timeoutPeriod?: number;
  /** The clock; the installed reactor by default. */
  clock?: IReactorTime;
  /** Seconds from `loseConnection()` to `abortConnection()`. Default {@link DEFAULT_ABORT_GRACE}. */
  abortGrace?: number;
}

/** The wrapper {@link TimeoutFactory} puts around each protocol: any byte read or written resets its timer. */
export class TimeoutProtocol extends ProtocolWrapper {
  readonly timer: TimeoutHelper;

  constructor(
    factory: TimeoutFactory,
    wrapped: IProtocol,
    private readonly timeoutPeriod: number,
    private readonly abortGrace: number,
  ) {
    super(factory, wrapped);
    this.timer = new TimeoutHelper(factory.clock, () => {
      this.timeoutConnection();
    });
  }

  override makeConnection(transport: ITransport): void {
    this.timer.setTimeout(this.timeoutPeriod);
    super.makeConnection(transport);
  }

  override dataReceived(data: Buffer): void {
    this.timer.resetTimeout();
    super.dataReceived(data);
  }

  override write(data: WriteData): void {
    this.timer.resetTimeout();
    super.write(data);
  }

  /**
   * The connection was idle for the whole period: log, close, abort after the grace.
   * It closes as the protocol would, through the transport the protocol
   * sees (the innermost wrapper), so every wrapper between sees the close:
   * one that registered itself as producer on the protocol's behalf (the
   * throttle, under echo) lets go, and the close is clean at once.
   */
  timeoutConnection(): void {
    log.info('Closing an idle connection', {
      peer: String(this.getPeer()),
      timeoutSeconds: this.timeoutPeriod,
    });
    let seen: ProtocolWrapper | null = null;
    let inner: IProtocol | null = this.wrappedProtocol;
    while (inner instanceof ProtocolWrapper) {
      seen = inner;
      inner = inner.hasWrappedProtocol ? inner.wrappedProtocol : null;
    }
    this.timer.closeTransport(seen ?? this, this.abortGrace);
  }

  override connectionLost(reason: Failure): void {
    this.timer.cancel();
    super.connectionLost(reason);
  }
}

/** Wraps a factory so that its connections are closed after `timeoutPeriod` seconds idle. */
export class TimeoutFactory extends WrappingFactory {
  readonly timeoutPeriod: number;
  readonly clock: IReactorTime;
  readonly abortGrace: number;

  /** @throws RangeError naming the option if `timeoutPeriod` or `abortGrace` is not a finite number above 0. */
  constructor(wrappedFactory: IProtocolFactory, options: TimeoutFactoryOptions = {}) {
    super(wrappedFactory);
    this.timeoutPeriod = options.timeoutPeriod ?? 30 * 60;
    checkSeconds('TimeoutFactory timeoutPeriod', this.timeoutPeriod);
    this.abortGrace = options.abortGrace ?? DEFAULT_ABORT_GRACE;
    checkSeconds('TimeoutFactory abortGrace', this.abortGrace);
    this.clock = options.clock ?? getReactor();
  }

  protected override wrapProtocol(wrapped: IProtocol, addr: IAddress): ProtocolWrapper {
    void addr;
    return new TimeoutProtocol(this, wrapped, this.timeoutPeriod, this.abortGrace);
  }
}
