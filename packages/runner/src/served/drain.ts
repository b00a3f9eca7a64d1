/**
 * The graceful drain on SIGTERM/SIGINT: stop accepting (every port stops
 * listening), tell every live protocol that has the hook
 * (`serverDraining(deadline)`, {@link IDrainableProtocol}), wait for the
 * connections to end, and abort what is left at the deadline. A second
 * SIGTERM or SIGINT during the drain aborts at once.
 *
 * The connections are the ports' own (`IListeningPort.connections()`), so
 * the drain needs no wrapper around each protocol, and it sees every
 * accepted connection — a `haproxy:` connection still reading its PROXY
 * header included (the port under a `haproxy:` endpoint is the TCP port).
 * Such a connection, whose protocol is not connected yet, is told once it
 * is: the drain looks again every {@link POLL} seconds while it waits.
 *
 * It runs as a `before shutdown` trigger of the reactor, so it works however
 * the reactor was stopped (its own signal handlers, or `reactor.stop()`) and
 * the reactor's own shutdown — which closes every connection — only begins
 * once the drain is over.
 *
 * Tests: test/served/drain.integration.test.ts, test/served/drain-bin.integration.test.ts,
 *   test/served/drain.test.ts, test/served/served.integration.test.ts,
 *   test/workers-haproxy.integration.test.ts
 * @module
 */
import {
  isDrainable,
  type IAddress,
  type IDelayedCall,
  type IListeningPort,
  type IProtocol,
  type IReactorTime,
  type IStreamTransport,
  type Logger,
} from '@torsion/core';
import { ProtocolWrapper } from '@torsion/policies';

import { TrackedConnection } from './tracking-factory.js';

/** Seconds to wait, after aborting what was left, for the aborted connections to report their end. */
const ABORT_SETTLE = 1;

/**
 * Seconds between two looks at the ports while draining: has everything
 * ended, has a connection's protocol been connected since (a late PROXY
 * header). Only while a drain runs; nothing is armed otherwise.
 */
export const POLL = 0.05;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** What telling one connection found. */
type Told = 'told' | 'not-yet';

/**
 * Drains once. {@link Drain.run} resolves when every connection of `ports`
 * has ended (or, after the deadline's abort, {@link ABORT_SETTLE} later at
 * the most).
 */
export class Drain {
  #deadlineCall: IDelayedCall | null = null;
  #settleCall: IDelayedCall | null = null;
  #pollCall: IDelayedCall | null = null;
  #finish: (() => void) | null = null;
  #aborted = false;
  #deadline = Infinity;
  /** Connections whose protocol was not connected yet when the drain looked. */
  readonly #notYetTold = new Set<IStreamTransport>();
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.log.warn(`Received ${signal} during the drain: aborting every connection now`, {
      signal,
    });
    this.abortAll();
  };

  constructor(
    readonly reactor: IReactorTime,
    readonly ports: readonly IListeningPort<IAddress>[],
    readonly timeoutSeconds: number,
    readonly log: Logger,
  ) {}

  /** How many connections the ports still hold. */
  get liveCount(): number {
    let count = 0;
    for (const port of this.ports) count += port.connectionCount;
    return count;
  }

  /** Every connection the ports still hold. */
  *connections(): IterableIterator<IStreamTransport> {
    for (const port of this.ports) yield* port.connections();
  }

  /** Stops listening, tells the protocols, waits; resolves once nothing is left. */
  async run(): Promise<void> {
    const deadline = this.reactor.seconds() + this.timeoutSeconds;
    this.#deadline = deadline;
    const stopped = Promise.allSettled(this.ports.map((port) => port.stopListening()));
    const live = this.liveCount;
    if (live === 0) {
      await stopped;
      return;
    }
    this.log.info(
      `Draining ${String(live)} connection(s); aborting what is left in ${String(this.timeoutSeconds)} s`,
      { connections: live, shutdownTimeout: this.timeoutSeconds },
    );
    for (const transport of [...this.connections()]) {
      if (this.#tell(transport) === 'not-yet') this.#notYetTold.add(transport);
    }
    for (const signal of SIGNALS) process.on(signal, this.#onSignal);
    try {
      await new Promise<void>((resolve) => {
        this.#finish = resolve;
        this.#deadlineCall = this.reactor.callLater(this.timeoutSeconds, () => {
          this.#deadlineCall = null;
          this.#closeAll();
        });
        this.#poll();
      });
    } finally {
      for (const signal of SIGNALS) process.removeListener(signal, this.#onSignal);
    }
    await stopped;
  }

  /**
   * At the deadline: `loseConnection()` every connection still open (what
   * was written is flushed, an idle peer sees a clean close), and abort
   * those still open {@link ABORT_SETTLE} later.
   */
  #closeAll(): void {
    const left = [...this.connections()];
    this.log.warn(`Closing ${String(left.length)} connection(s) still open at the drain deadline`, {
      connections: left.length,
    });
    for (const transport of left) {
      markDrainAborted(transport);
      try {
        transport.loseConnection();
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
    const left = [...this.connections()];
    if (left.length > 0) {
      this.log.warn(`Aborting ${String(left.length)} connection(s) still open`, {
        connections: left.length,
      });
    }
    for (const transport of left) {
      markDrainAborted(transport);
      try {
        transport.abortConnection();
      } catch (err) {
        this.log.failure('Could not abort a connection during the drain', err);
      }
    }
    this.#settleCall = this.reactor.callLater(ABORT_SETTLE, () => {
      this.#settleCall = null;
      this.#done();
    });
  }

  /** Done once no connection is left; meanwhile, tells those connected since the last look. */
  #poll(): void {
    this.#pollCall = null;
    if (this.#finish === null) return;
    if (this.liveCount === 0) {
      this.#done();
      return;
    }
    if (this.#notYetTold.size > 0 && !this.#aborted) {
      const live = new Set(this.connections());
      for (const transport of this.#notYetTold) {
        if (!live.has(transport) || this.#tell(transport) === 'told') {
          this.#notYetTold.delete(transport);
        }
      }
    }
    this.#pollCall = this.reactor.callLater(POLL, () => {
      this.#poll();
    });
  }

  #done(): void {
    this.#deadlineCall?.cancel();
    this.#deadlineCall = null;
    this.#settleCall?.cancel();
    this.#settleCall = null;
    this.#pollCall?.cancel();
    this.#pollCall = null;
    this.#notYetTold.clear();
    const finish = this.#finish;
    this.#finish = null;
    finish?.();
  }

  /**
   * Tells the connection's protocol, if it has the hook: the outermost
   * protocol in its chain of wrappers that is drainable (a wrapper forwards
   * the hook when what it wraps has it). `not-yet` when a wrapper has not
   * connected the protocol it will wrap (a PROXY header still on its way)
   * or a TLS handshake is still running.
   */
  #tell(transport: IStreamTransport): Told {
    const found = drainTarget(transport);
    if (found === null) return 'not-yet';
    if (!isDrainable(found)) return 'told';
    try {
      found.serverDraining(this.#deadline);
    } catch (err) {
      // A protocol that fails here costs only its own connection.
      this.log.failure('serverDraining() threw; aborting that connection', err);
      markDrainAborted(transport);
      transport.abortConnection();
    }
    return 'told';
  }
}

/** The protocol of a port's transport (every reactor's transports have `protocol`, as Twisted's). */
function protocolOf(transport: IStreamTransport): IProtocol | null {
  return (transport as { protocol?: IProtocol | null }).protocol ?? null;
}

/**
 * The protocol to tell: the first drainable one walking in from the
 * transport's, through wrappers; the innermost one if none is; `null` when
 * the chain is not complete yet.
 */
function drainTarget(transport: IStreamTransport): IProtocol | null {
  let protocol = protocolOf(transport);
  while (protocol !== null && !isDrainable(protocol)) {
    if (!(protocol instanceof ProtocolWrapper)) return protocol;
    if (!protocol.hasWrappedProtocol) return null;
    protocol = protocol.wrappedProtocol;
  }
  return protocol;
}

/** Marks the tracked connection in the chain (if tracking is on) so its access-log line says `drain-aborted`. */
function markDrainAborted(transport: IStreamTransport): void {
  let protocol = protocolOf(transport);
  while (protocol instanceof ProtocolWrapper) {
    if (protocol instanceof TrackedConnection) {
      protocol.drainAborted = true;
      return;
    }
    if (!protocol.hasWrappedProtocol) return;
    protocol = protocol.wrappedProtocol;
  }
}
