/**
 * `StandardIO`: runs any protocol over the process's own standard input and
 * output (Twisted's `twisted.internet.stdio.StandardIO`), or over any pair of
 * Node streams. Bytes read from stdin reach `dataReceived`; `write()` goes to
 * stdout. Flow control, producers and the close requests are
 * {@link BaseTransport}'s, exactly as on a socket; output that stdout cannot
 * take at once waits in a {@link WriteQueue}. This file only drives the two
 * streams.
 *
 * Tests: test/stdio/standard-io.test.ts, test/types/stdio.test-d.ts,
 * examples/test/stdio-calc.test.ts, and packages/reactor-bun/test/stdio.bun.test.ts on Bun
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { getReactor } from '../default-reactor.js';
import type { IProtocol, IReactorCore, SystemEventTriggerId } from '../interfaces.js';
import { Logger } from '../log.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { checkWriteHighWaterMark } from '../reactor-kit/argument-checks.js';
import { PipeAddress } from './pipe-address.js';
import { StreamTransport } from './stream-transport.js';

const log = new Logger('torsion.stdio');

/** What a {@link StandardIO} needs of a reactor: a shutdown hook, so `stop()` waits for stdout to flush. */
export type StandardIOReactor = Pick<
  IReactorCore,
  'addSystemEventTrigger' | 'removeSystemEventTrigger'
>;

/** Options of {@link StandardIO}. Every one is optional. */
export interface StandardIOOptions {
  /**
   * The reactor whose shutdown closes the connection (stdout is flushed
   * before `run()`'s promise settles). Default: the installed reactor
   * (`getReactor()`).
   */
  reactor?: StandardIOReactor;
  /** Where bytes are read from. Default: `process.stdin` (a pipe, a file or a TTY). */
  stdin?: Readable;
  /** Where bytes are written. Default: `process.stdout`. */
  stdout?: Writable;
  /** Output bytes buffered above which a producer is paused, or reading stops. Default 64 KiB. */
  writeHighWaterMark?: number;
}

/**
 * A connection over stdin and stdout: `new StandardIO(protocol)` attaches
 * the protocol at once (`connectionMade` runs before the constructor
 * returns, as in Twisted) and starts reading.
 *
 * @remarks
 * - **End of input.** When stdin ends, a half-closeable protocol (see
 *   `isHalfCloseable`) hears `readConnectionLost()` and may go on writing;
 *   any other protocol's connection closes as after `loseConnection()`:
 *   what it wrote is flushed first (Twisted drops it), then
 *   `connectionLost` gets a `ConnectionDone`.
 * - **Closing.** `loseConnection()` stops reading at once, waits for a
 *   registered producer to be unregistered, flushes stdout, then calls
 *   `connectionLost(ConnectionDone)`. stdin is only paused, never closed,
 *   so whoever writes to it gets no SIGPIPE. An injected `stdout` stream is
 *   ended; the process's own `process.stdout` is not (Node would not close
 *   the descriptor anyway, and a later `console.log` would then fail): its
 *   reader sees the end when the process exits.
 *   `loseWriteConnection()` ends stdout, whichever it is, once flushed, and
 *   the protocol's `writeConnectionLost()` follows; once stdin has also
 *   ended, the connection is lost.
 * - **Backpressure.** `writeBufferSize` is what the stdout stream holds plus
 *   the queue. Above `writeHighWaterMark` a streaming producer is paused, or,
 *   with none registered, reading from stdin stops, until it has drained.
 * - **The reader went away.** A write error on stdout (EPIPE when the
 *   reading end was closed) ends the connection: `connectionLost` gets a
 *   `ConnectionLost` naming the error, and the process goes on. An error
 *   reading stdin does the same.
 * - **Addresses.** `getHost()` and `getPeer()` return a {@link PipeAddress}.
 * - The TCP options (`setTcpNoDelay`, `setTcpKeepAlive`) are only recorded:
 *   a pipe has neither.
 * - An exception thrown by the protocol is logged with its stack and ends
 *   the connection (`ConnectionLost` with the error as `cause`), like on any
 *   transport.
 */
export class StandardIO extends StreamTransport<PipeAddress> {
  readonly #reactor: StandardIOReactor;
  readonly #trigger: SystemEventTriggerId;
  /** Settles the shutdown trigger's promise once the connection is lost. */
  #whenLost: (() => void) | null = null;
  /** The reactor's shutdown ran our trigger, which it then forgot. */
  #triggerFired = false;

  /**
   * @param protocol - the protocol to run; attached at once.
   * @param options - the streams, the reactor and the high-water mark.
   * @throws RangeError if `writeHighWaterMark` is not an integer >= 0.
   */
  constructor(protocol: IProtocol, options: StandardIOOptions = {}) {
    const highWaterMark =
      options.writeHighWaterMark === undefined
        ? DEFAULT_WRITE_HIGH_WATER_MARK
        : checkWriteHighWaterMark(options.writeHighWaterMark);
    const reactor = options.reactor ?? getReactor();
    super(protocol, {
      input: options.stdin ?? process.stdin,
      output: options.stdout ?? process.stdout,
      host: new PipeAddress(),
      peer: new PipeAddress(),
      log,
      names: { input: 'stdin', output: 'stdout' },
      writeHighWaterMark: highWaterMark,
      owner: {
        transportClosed: () => {
          this.#lost();
        },
      },
    });
    this.#reactor = reactor;
    this.#trigger = reactor.addSystemEventTrigger('during', 'shutdown', () =>
      this.#closeForShutdown(),
    );
    this.start();
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `StandardIO(${this.protocolName()})`;
  }

  #closeForShutdown(): Promise<void> | undefined {
    this.#triggerFired = true;
    if (this.lost) return undefined;
    const lost = new Promise<void>((resolve) => {
      this.#whenLost = resolve;
    });
    this.loseConnection();
    return lost;
  }

  /** After `connectionLost`: forget the reactor's hook, let a waiting shutdown go on. */
  #lost(): void {
    if (!this.#triggerFired) this.#reactor.removeSystemEventTrigger(this.#trigger);
    const whenLost = this.#whenLost;
    this.#whenLost = null;
    whenLost?.();
  }
}
