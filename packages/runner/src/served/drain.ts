/**
 * The graceful drain on SIGTERM/SIGINT: stop accepting (every port stops
 * listening), tell every live protocol that has the hook
 * (`serverDraining(deadline)`, {@link IDrainableProtocol}), wait for the
 * connections to end, and abort what is left at the deadline. A second
 * SIGTERM or SIGINT during the drain aborts at once.
 *
 * It runs as a `before shutdown` trigger of the reactor, so it works however
 * the reactor was stopped (its own signal handlers, or `reactor.stop()`) and
 * the reactor's own shutdown — which closes every connection — only begins
 * once the drain is over.
 *
 * Tests: test/served/drain.integration.test.ts, test/served/drain-bin.integration.test.ts,
 *   test/served/served.integration.test.ts
 * @module
 */
import {
  isDrainable,
  type IAddress,
  type IDelayedCall,
  type IListeningPort,
  type IReactorTime,
  type Logger,
} from '@torsion/core';

import type { TrackedConnection } from './tracking-factory.js';

/** Seconds to wait, after aborting what was left, for the aborted connections to report their end. */
const ABORT_SETTLE = 1;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** What a drain needs to see of the served connections. */
export interface DrainTarget {
  /** Every live tracked connection. */
  connections(): Iterable<TrackedConnection>;
  /** How many are live. */
  readonly liveCount: number;
  /** Calls `fn` once no connection is live (at once if none is). Only one waiter at a time. */
  whenIdle(fn: () => void): void;
}

/**
 * Drains once. {@link Drain.run} resolves when every connection has ended
 * (or, after the deadline's abort, {@link ABORT_SETTLE} later at the most).
 */
export class Drain {
  #deadlineCall: IDelayedCall | null = null;
  #settleCall: IDelayedCall | null = null;
  #finish: (() => void) | null = null;
  #aborted = false;
  #deadline = Infinity;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.log.warn(`Received ${signal} during the drain: aborting every connection now`, {
      signal,
    });
    this.abortAll();
  };

  constructor(
    readonly reactor: IReactorTime,
    readonly target: DrainTarget,
    readonly ports: readonly IListeningPort<IAddress>[],
    readonly timeoutSeconds: number,
    readonly log: Logger,
  ) {}

  /** Stops listening, tells the protocols, waits; resolves once nothing is left. */
  async run(): Promise<void> {
    const deadline = this.reactor.seconds() + this.timeoutSeconds;
    this.#deadline = deadline;
    const stopped = Promise.allSettled(this.ports.map((port) => port.stopListening()));
    if (this.target.liveCount === 0) {
      await stopped;
      return;
    }
    this.log.info(
      `Draining ${String(this.target.liveCount)} connection(s); aborting what is left in ${String(this.timeoutSeconds)} s`,
      { connections: this.target.liveCount, shutdownTimeout: this.timeoutSeconds },
    );
    for (const connection of this.target.connections()) this.#notify(connection, deadline);
    for (const signal of SIGNALS) process.on(signal, this.#onSignal);
    try {
      await new Promise<void>((resolve) => {
        this.#finish = resolve;
        this.#deadlineCall = this.reactor.callLater(this.timeoutSeconds, () => {
          this.#deadlineCall = null;
          this.#closeAll();
        });
        this.target.whenIdle(() => {
          this.#done();
        });
      });
    } finally {
      for (const signal of SIGNALS) process.removeListener(signal, this.#onSignal);
    }
    await stopped;
  }

  /** A connection handed to its plugin during the drain (its PROXY header came late) is told at once. */
  connectionStarted(connection: TrackedConnection): void {
    if (this.#finish === null) return;
    const deadline = this.#deadline;
    // After its makeConnection, so that the protocol is connected when told.
    this.reactor.callLater(0, () => {
      if (connection.connected && !connection.drainNotified) this.#notify(connection, deadline);
    });
  }

  /**
   * At the deadline: `loseConnection()` every connection still open (what
   * was written is flushed, an idle peer sees a clean close), and abort
   * those still open {@link ABORT_SETTLE} later.
   */
  #closeAll(): void {
    const left = [...this.target.connections()];
    this.log.warn(`Closing ${String(left.length)} connection(s) still open at the drain deadline`, {
      connections: left.length,
    });
    for (const connection of left) {
      connection.drainAborted = true;
      try {
        connection.loseConnection();
      } catch (err) {
        this.log.failure('Could not close a connection at the drain deadline', err);
      }
    }
    this.#settleCall = this.reactor.callLater(ABORT_SETTLE, () => {
      this.#settleCall = null;
      this.abortAll();
    });
  }

  /** Aborts every connection still open, then waits {@link ABORT_SETTLE} at most for them to end. */
  abortAll(): void {
    if (this.#aborted || this.#finish === null) return;
    this.#aborted = true;
    this.#deadlineCall?.cancel();
    this.#deadlineCall = null;
    this.#settleCall?.cancel();
    this.#settleCall = null;
    const left = [...this.target.connections()];
    if (left.length > 0) {
      this.log.warn(`Aborting ${String(left.length)} connection(s) still open`, {
        connections: left.length,
      });
    }
    for (const connection of left) {
      connection.drainAborted = true;
      try {
        connection.abortConnection();
      } catch (err) {
        this.log.failure('Could not abort a connection during the drain', err);
      }
    }
    this.#settleCall = this.reactor.callLater(ABORT_SETTLE, () => {
      this.#settleCall = null;
      this.#done();
    });
  }

  #done(): void {
    this.#deadlineCall?.cancel();
    this.#deadlineCall = null;
    this.#settleCall?.cancel();
    this.#settleCall = null;
    const finish = this.#finish;
    this.#finish = null;
    finish?.();
  }

  #notify(connection: TrackedConnection, deadline: number): void {
    connection.drainNotified = true;
    const protocol = connection.pluginProtocol;
    if (!isDrainable(protocol)) return;
    try {
      protocol.serverDraining(deadline);
    } catch (err) {
      // A protocol that fails here costs only its own connection.
      this.log.failure('serverDraining() threw; aborting that connection', err);
      connection.drainAborted = true;
      connection.abortConnection();
    }
  }
}
