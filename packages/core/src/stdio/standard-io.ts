/**
 * `StandardIO`: runs any protocol over the process's own standard input and
 * output (Twisted's `twisted.internet.stdio.StandardIO`), or over any pair of
 * Node streams. Bytes read from stdin reach `dataReceived`; `write()` goes to
 * stdout. Flow control, producers and the close requests are
 * {@link BaseTransport}'s, exactly as on a socket; output that stdout cannot
 * take at once waits in a {@link WriteQueue}. This file only drives the two
 * streams.
 *
 * Tests: test/stdio/standard-io.test.ts, test/stdio/standard-io.integration.test.ts,
 * and packages/reactor-bun/test/stdio.bun.test.ts on Bun
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { getReactor } from '../default-reactor.js';
import { describeType } from '../describe-type.js';
import { ConnectionAborted, ConnectionLost } from '../errors.js';
import { Failure } from '../failure.js';
import type { IProtocol, IReactorCore, SystemEventTriggerId, WriteData } from '../interfaces.js';
import { Logger } from '../log.js';
import { BaseTransport, DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { checkWriteHighWaterMark } from '../reactor-kit/argument-checks.js';
import { WriteQueue, type ByteSink } from '../reactor-kit/write-queue.js';
import { PipeAddress } from './pipe-address.js';

const log = new Logger('torsion.stdio');

const EMPTY = Buffer.alloc(0);

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
export class StandardIO extends BaseTransport<PipeAddress> {
  readonly #protocol: IProtocol;
  readonly #stdin: Readable;
  readonly #stdout: Writable;
  readonly #reactor: StandardIOReactor;
  readonly #trigger: SystemEventTriggerId;

  /** Why the connection ends, when something failed or it was aborted. */
  #reason: Failure | null = null;
  /** stdin reported its end. */
  #inputEnded = false;
  /** stdout was ended by a half-close and reported 'finish'. */
  #outputFinished = false;
  /** A deferred end of the write side is scheduled. */
  #endScheduled = false;
  /** The write side ends once everything written is flushed. */
  #endAfterFlush = false;
  /** Output waiting while the stdout stream still holds unsent bytes; made on first need. */
  #queue: WriteQueue | null = null;
  /** An empty write is queued behind stdout's output, to learn when it has flushed. */
  #flushAwaited = false;
  #noDelay = false;
  #keepAlive = false;
  /** Settles the shutdown trigger's promise once the connection is lost. */
  #whenLost: (() => void) | null = null;
  /** The reactor's shutdown ran our trigger, which it then forgot. */
  #triggerFired = false;

  readonly #onData = (chunk: Buffer | string): void => {
    this.#deliver(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  };
  readonly #onInputEnd = (): void => {
    this.#inputEnded = true;
    this.peerEnded();
  };
  readonly #onInputError = (err: Error): void => {
    this.#failed('reading stdin', err);
  };
  readonly #onOutputError = (err: Error): void => {
    if (this.lost) {
      log.debug('stdout failed after the StandardIO connection was lost', { error: err.message });
      return;
    }
    this.#failed('writing stdout', err);
  };
  readonly #onOutputFinish = (): void => {
    this.#outputFinished = true;
    if (this.lost) return;
    if (this.closeRequested || this.#inputEnded) {
      this.#closed();
      return;
    }
    this.writeConnectionLost(this.#protocol);
  };
  readonly #onFlushed = (): void => {
    this.#socketFlushed();
  };

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
    super(new PipeAddress(), new PipeAddress(), highWaterMark);
    this.#protocol = protocol;
    this.#stdin = options.stdin ?? process.stdin;
    this.#stdout = options.stdout ?? process.stdout;
    this.#reactor = options.reactor ?? getReactor();
    // 'error' first: from here on no stream error can become an uncaught exception.
    // The stdout listener stays after the loss (see #closed).
    this.#stdout.on('error', this.#onOutputError);
    this.#stdout.on('finish', this.#onOutputFinish);
    this.#stdin.on('error', this.#onInputError);
    this.#stdin.on('end', this.#onInputEnd);
    this.#trigger = this.#reactor.addSystemEventTrigger('during', 'shutdown', () =>
      this.#closeForShutdown(),
    );
    this.attachProtocol(protocol);
    if (!this.closeRequested && !this.lost) {
      this.#stdin.on('data', this.#onData);
      if (this.readPaused) this.#stdin.pause();
      else this.#stdin.resume();
    }
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Queues bytes for stdout. Strings are sent as UTF-8. Accepted until the
   * write side has closed (as on a socket); silently ignored after that,
   * after an abort, or after a write error.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    this.checkWriteData(data);
    if (this.writeClosed) return;
    if (this.tlsStarted) {
      this.writeTLS(data);
      return;
    }
    this.#send(data);
    this.afterWrite(this.writeBufferSize);
  }

  /**
   * Writes each item in order. Every item is checked first, so a bad item
   * writes nothing.
   * @throws TypeError if an item is neither a Uint8Array nor a string.
   */
  writeSequence(data: Iterable<WriteData>): void {
    const items = this.writeSequenceItems(data);
    for (const item of items) this.write(item);
  }

  /** Recorded only: a pipe has no Nagle algorithm. */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
  }

  /** What {@link StandardIO.setTcpNoDelay} recorded. */
  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  /**
   * Recorded only: a pipe has no keep-alive probes.
   * @throws RangeError if `initialDelaySeconds` is negative or not finite.
   */
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds = 0): void {
    this.checkKeepAliveDelay(initialDelaySeconds);
    this.#keepAlive = enabled;
  }

  /** What {@link StandardIO.setTcpKeepAlive} recorded. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Bytes written and not yet taken by the stdout stream's descriptor: the stream's buffer plus the queue. */
  get writeBufferSize(): number {
    return this.#stdout.writableLength + (this.#queue?.size ?? 0) + this.tlsBufferedBytes;
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `StandardIO(${this.protocolName()})`;
  }

  // ------------------------------------------------------------ BaseTransport's I/O

  protected get log(): Logger {
    return log;
  }

  protected protocolName(): string {
    return describeType(this.#protocol);
  }

  protected pauseReading(): void {
    this.#stdin.pause();
  }

  protected resumeReading(): void {
    if (!this.readPaused && !this.closeRequested && !this.lost) this.#stdin.resume();
  }

  protected notifyWhenDrained(): void {
    if (this.writeBufferSize === 0) setImmediate(this.#onFlushed);
    else this.#awaitFlush();
  }

  protected scheduleEnd(): void {
    if (this.#endScheduled || this.producerHoldsClose || this.lost) return;
    this.#endScheduled = true;
    // On a later turn, so writes made right after loseConnection() still go out.
    setImmediate(() => {
      this.#end();
    });
  }

  protected abort(reason: Failure | null): void {
    if (this.lost) return;
    this.closeRequested = true;
    this.writeClosed = true;
    this.#queue?.clear();
    this.#stdin.pause();
    // A reason recorded first wins (an error that started the abort).
    this.#reason ??= reason ?? new Failure(new ConnectionAborted());
    // A pipe has no reset: unsent output the stream already holds may still go out.
    setImmediate(() => {
      this.#closed();
    });
  }

  protected get attachedProtocol(): IProtocol {
    return this.#protocol;
  }

  protected writeRaw(data: Buffer): void {
    if (this.#stdout.writableEnded || this.#stdout.destroyed) return;
    this.#send(data);
  }

  protected endRaw(): void {
    this.writeClosed = true;
    this.#endOutput(true);
  }

  protected peerEnded(): void {
    if (this.lost) return;
    if (this.tlsStarted) {
      this.receiveTLSEnd();
      return;
    }
    // Both directions are over once our own end was already sent.
    if (this.#outputFinished) {
      this.#closed();
      return;
    }
    this.readConnectionLost(this.#protocol);
  }

  // ------------------------------------------------------------ internals

  /** Writes now when stdout holds nothing unsent, else queues behind it. */
  #send(data: WriteData): void {
    const queue = this.#queue;
    if ((queue === null || queue.empty) && this.#stdout.writableLength === 0) {
      this.#stdout.write(data);
      return;
    }
    (this.#queue ??= new WriteQueue()).push(data);
    this.#awaitFlush();
  }

  /** Asks to be told (#socketFlushed) once everything handed to stdout so far is flushed. */
  #awaitFlush(): void {
    const out = this.#stdout;
    if (this.#flushAwaited || out.destroyed || out.writableEnded) return;
    this.#flushAwaited = true;
    // An empty write's callback runs once everything before it was flushed,
    // whether or not the stream's own high-water mark was reached.
    out.write(EMPTY, this.#onFlushed);
  }

  #socketFlushed(): void {
    this.#flushAwaited = false;
    if (this.lost || this.#stdout.destroyed) return;
    const queue = this.#queue;
    if (queue !== null && !queue.empty && this.#stdout.writableLength === 0) {
      queue.flushTo(this.#sink);
    }
    if (this.#stdout.writableLength + (this.#queue?.size ?? 0) > 0) {
      this.#awaitFlush();
      return;
    }
    if (this.#endAfterFlush) {
      this.#endAfterFlush = false;
      this.#end();
    }
    if (this.drainAwaited) this.writeBufferDrained();
  }

  /** The queue's sink: the stdout stream, which buffers whatever its descriptor does not take. */
  readonly #sink: ByteSink = {
    write: (data, byteOffset, byteLength) => {
      if (this.#stdout.destroyed || this.#stdout.writableEnded) return -1;
      this.#stdout.write(
        byteOffset === 0 && byteLength === data.byteLength
          ? data
          : data.subarray(byteOffset, byteOffset + byteLength),
      );
      return byteLength;
    },
  };

  #end(): void {
    this.#endScheduled = false;
    if (this.lost || this.producerHoldsClose) return;
    if (!this.writeClosed) {
      if (this.tlsStarted) {
        this.endTLS();
        return;
      }
      if (this.writeBufferSize > 0) {
        // Writes are still accepted until everything is flushed (as on a socket).
        this.#endAfterFlush = true;
        this.#awaitFlush();
        return;
      }
      this.writeClosed = true;
      this.#endOutput(false);
    } else if (this.closeRequested && (this.#outputFinished || this.#stdout.writableEnded)) {
      // loseConnection() after a completed loseWriteConnection(): nothing left to send.
      if (this.#outputFinished) this.#closed();
    }
  }

  /**
   * The write side is over and flushed: a half-close ends stdout (the
   * 'finish' tells the protocol); a full close ends it too unless it is the
   * process's own, then the connection is lost.
   */
  #endOutput(raw: boolean): void {
    const out = this.#stdout;
    const full = this.closeRequested;
    if (full && !raw && isProcessStdio(out)) {
      setImmediate(() => {
        this.#closed();
      });
      return;
    }
    if (out.writableEnded || out.destroyed) {
      setImmediate(() => {
        this.#closed();
      });
      return;
    }
    out.end();
  }

  #deliver(data: Buffer): void {
    // Reading stops at loseConnection()/abort; drop anything already in flight.
    if (this.closeRequested || this.lost) return;
    if (this.tlsStarted) {
      this.receiveTLS(data);
      return;
    }
    try {
      this.#protocol.dataReceived(data);
    } catch (err) {
      this.protocolFailed('dataReceived', err);
    }
  }

  #failed(what: string, err: Error): void {
    if (this.lost) return;
    this.writeClosed = true;
    this.#queue?.clear();
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'EPIPE' ? ' (its reader went away)' : '';
    this.#reason ??= new Failure(
      new ConnectionLost(`Error ${what}${detail}: ${err.message}`, { cause: err }),
    );
    this.#closed();
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

  /** The connection is gone: stop reading, tell the protocol once, forget the reactor hook. */
  #closed(): void {
    if (this.lost) return;
    this.lost = true;
    this.writeClosed = true;
    this.#queue = null;
    const stdin = this.#stdin;
    stdin.removeListener('data', this.#onData);
    stdin.removeListener('end', this.#onInputEnd);
    stdin.removeListener('error', this.#onInputError);
    // Paused, so the process's own stdin no longer keeps it alive. Node stops
    // reading its descriptor on the 'pause' event of a flowing stream, and a
    // pause made while a read was in flight (from inside dataReceived) left
    // it reading: flow once more, with no listener left, and pause again.
    if (stdin.isPaused()) stdin.resume();
    stdin.pause();
    // The 'error' listener stays on stdout: a later write by anyone to a
    // reader that went away (EPIPE) must not crash the process.
    this.#stdout.removeListener('finish', this.#onOutputFinish);
    if (!this.#triggerFired) this.#reactor.removeSystemEventTrigger(this.#trigger);
    this.notifyConnectionLost(this.#protocol, this.closeReason(this.#reason));
    const whenLost = this.#whenLost;
    this.#whenLost = null;
    whenLost?.();
  }
}

/** Whether `stream` is this process's own stdout or stderr, which StandardIO never ends on a full close. */
function isProcessStdio(stream: Writable): boolean {
  return stream === process.stdout || stream === process.stderr;
}
