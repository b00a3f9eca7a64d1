/**
 * `StreamTransport`: a stream transport over Node streams — a `Readable`
 * the protocol's bytes come from and a `Writable` its writes go to, either
 * of which may be absent (a one-way pipe). It is what `StandardIO` runs on
 * (the process's own stdin and stdout), and each pipe of a child process
 * started with `node:child_process` (a socket on Node, a Node stream on Bun). Flow control, producers and the close
 * requests are {@link BaseTransport}'s, exactly as on a socket; output the
 * stream cannot take at once waits in a {@link WriteQueue}. This file only
 * drives the two streams.
 *
 * Tests: test/stdio/standard-io.test.ts, test/stdio/stream-transport.test.ts,
 * examples/test/stdio-calc.test.ts, test/process/cat-round-trip.integration.test.ts,
 * and on Bun packages/reactor-bun/test/process.bun.test.ts
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import type { IAddress } from '../address.js';
import { describeType } from '../describe-type.js';
import { ConnectionAborted, ConnectionLost } from '../errors.js';
import { Failure } from '../failure.js';
import type { IProtocol, WriteData } from '../interfaces.js';
import type { Logger } from '../log.js';
import { BaseTransport, DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { WriteQueue, type ByteSink } from '../reactor-kit/write-queue.js';

const EMPTY = Buffer.alloc(0);

/** How a {@link StreamTransport} is made. */
export interface StreamTransportSettings<A extends IAddress> {
  /** Where bytes are read from; `null` for a transport that only writes. */
  readonly input: Readable | null;
  /** Where writes go; `null` for a transport that only reads (writes are then dropped). */
  readonly output: Writable | null;
  /** What `getHost()` reports. */
  readonly host: A;
  /** What `getPeer()` reports. */
  readonly peer: A;
  /** Where exceptions from the protocol are logged. */
  readonly log: Logger;
  /** Names the input and the output in the reason of a failure, e.g. `'stdin'`, `'stdout'`. */
  readonly names?: { readonly input: string; readonly output: string };
  /**
   * Whether the transport owns the streams (a child's pipes): its full close
   * then also destroys the input, and an abort destroys both. When false
   * (the process's own stdin and stdout), the input is only paused, never
   * closed, so whoever writes to it gets no SIGPIPE.
   */
  readonly ownsStreams?: boolean;
  /** Output bytes buffered above which a producer is paused, or reading stops. Default 64 KiB. */
  readonly writeHighWaterMark?: number;
  /** Told once, after the protocol's `connectionLost` ran, that the transport is gone. */
  readonly owner?: { transportClosed(transport: StreamTransport<A>, reason: Failure): void };
}

const NO_OWNER = { transportClosed(): void {} };

/**
 * A connection over a readable and a writable Node stream. Build it, then
 * call {@link StreamTransport.start} to attach the protocol and start reading.
 *
 * @remarks
 * - The end of the input is the peer's FIN: a half-closeable protocol hears
 *   `readConnectionLost()`; any other closes as after `loseConnection()`,
 *   flushing what it wrote first.
 * - `loseConnection()` stops reading, waits for a registered producer to be
 *   unregistered, flushes, ends the output (never this process's own
 *   `process.stdout`/`process.stderr`, which Node does not close and a later
 *   `console.log` would still use), then `connectionLost(ConnectionDone)`.
 * - `loseWriteConnection()` ends the output once flushed; the protocol's
 *   `writeConnectionLost()` follows, and once the input has ended too the
 *   connection is lost.
 * - An error on either stream (EPIPE when the reader of the output went
 *   away) ends the connection with a `ConnectionLost` naming it. The
 *   output's `'error'` listener stays after the loss, so a later write by
 *   anyone to a reader that went away cannot crash the process.
 * - `writeBufferSize` is what the output stream holds plus the queue.
 * - The TCP options are only recorded: a pipe has neither Nagle nor keep-alive.
 */
export class StreamTransport<A extends IAddress> extends BaseTransport<A> {
  readonly #protocol: IProtocol;
  readonly #input: Readable | null;
  readonly #output: Writable | null;
  readonly #log: Logger;
  readonly #names: { readonly input: string; readonly output: string };
  readonly #owns: boolean;
  readonly #owner: { transportClosed(transport: StreamTransport<A>, reason: Failure): void };

  /** Why the connection ends, when something failed or it was aborted. */
  #reason: Failure | null = null;
  /** The input reported its end (or there is none). */
  #inputEnded: boolean;
  /** The output was ended by a half-close and reported 'finish' (or there is none). */
  #outputFinished: boolean;
  /** A deferred end of the write side is scheduled. */
  #endScheduled = false;
  /** The write side ends once everything written is flushed. */
  #endAfterFlush = false;
  /** Output waiting while the stream still holds unsent bytes; made on first need. */
  #queue: WriteQueue | null = null;
  /** Waiting to learn that the output has flushed: an empty write's callback, or 'drain'. */
  #flushAwaited = false;
  /**
   * The output's last `write()` returned false, and its 'drain' has not come:
   * everything waits in the queue meanwhile. Bun's pipes report no
   * `writableLength`, so this is the one signal every runtime gives.
   */
  #outputFull = false;
  /** Chunks the input delivered while reads were held back (Bun resumes a child's pipes itself). */
  #held: Buffer[] | null = null;
  /** The input ended while reads were held back: its end waits behind {@link StreamTransport.#held}. */
  #endHeld = false;
  #noDelay = false;
  #keepAlive = false;

  readonly #onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.readPaused && !this.closeRequested && !this.lost) {
      // A stream that delivers while paused: keep it for resumeReading().
      (this.#held ??= []).push(data);
      this.#input?.pause();
      return;
    }
    this.#deliver(data);
  };
  readonly #onInputEnd = (): void => {
    if (this.#held !== null || (this.readPaused && !this.closeRequested && !this.lost)) {
      this.#endHeld = true;
      return;
    }
    this.#inputEnded = true;
    this.peerEnded();
  };
  readonly #onDrain = (): void => {
    this.#outputFull = false;
    if (this.#flushAwaited) this.#streamFlushed();
  };
  readonly #onInputError = (err: Error): void => {
    this.#failed(`reading ${this.#names.input}`, err);
  };
  readonly #onOutputError = (err: Error): void => {
    if (this.lost) {
      this.#log.debug(`${this.#names.output} failed after its connection was lost`, {
        error: err.message,
      });
      return;
    }
    this.#failed(`writing ${this.#names.output}`, err);
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
    this.#streamFlushed();
  };

  /**
   * @param protocol - the protocol to drive; {@link StreamTransport.start} attaches it.
   * @param settings - the streams, the addresses, the logger and the high-water mark
   *   (checked by the caller).
   */
  constructor(protocol: IProtocol, settings: StreamTransportSettings<A>) {
    super(
      settings.host,
      settings.peer,
      settings.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK,
    );
    this.#protocol = protocol;
    this.#input = settings.input;
    this.#output = settings.output;
    this.#log = settings.log;
    this.#names = settings.names ?? { input: 'the input stream', output: 'the output stream' };
    this.#owns = settings.ownsStreams ?? false;
    this.#owner = settings.owner ?? NO_OWNER;
    this.#inputEnded = settings.input === null;
    this.#outputFinished = settings.output === null;
    // 'error' first: from here on no stream error can become an uncaught exception.
    this.#output?.on('error', this.#onOutputError);
    this.#output?.on('finish', this.#onOutputFinish);
    this.#output?.on('drain', this.#onDrain);
    this.#input?.on('error', this.#onInputError);
    this.#input?.on('end', this.#onInputEnd);
  }

  /** Attaches the protocol (`makeConnection`, so `connectionMade`), then starts reading. */
  start(): void {
    this.attachProtocol(this.#protocol);
    const input = this.#input;
    if (input === null || this.closeRequested || this.lost) return;
    input.on('data', this.#onData);
    if (this.readPaused) input.pause();
    else input.resume();
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Queues bytes for the output. Strings are sent as UTF-8. Accepted until
   * the write side has closed (as on a socket); silently ignored after that,
   * after an abort, after a write error, or when there is no output.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    this.checkWriteData(data);
    if (this.writeClosed || this.#output === null) return;
    if (this.tlsStarted) {
      this.writeTLS(data);
      return;
    }
    this.#send(this.#output, data);
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

  /** What {@link StreamTransport.setTcpNoDelay} recorded. */
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

  /** What {@link StreamTransport.setTcpKeepAlive} recorded. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Bytes written and not yet taken by the output's descriptor: the stream's buffer plus the queue. */
  get writeBufferSize(): number {
    return (this.#output?.writableLength ?? 0) + (this.#queue?.size ?? 0) + this.tlsBufferedBytes;
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `StreamTransport(${this.protocolName()})`;
  }

  // ------------------------------------------------------------ BaseTransport's I/O

  protected get log(): Logger {
    return this.#log;
  }

  protected protocolName(): string {
    return describeType(this.#protocol);
  }

  protected pauseReading(): void {
    this.#input?.pause();
  }

  protected resumeReading(): void {
    if (this.#readsHeldBack()) return;
    const held = this.#held;
    if (held !== null) {
      this.#held = null;
      for (let data = held.shift(); data !== undefined; data = held.shift()) {
        this.#deliver(data);
        if (this.#readsHeldBack()) {
          // The protocol held reads back again: the rest waits (dropped on a close).
          if (held.length > 0 && !this.closeRequested && !this.lost) this.#held = held;
          return;
        }
      }
    }
    if (this.#endHeld) {
      this.#endHeld = false;
      this.#inputEnded = true;
      this.peerEnded();
      return;
    }
    this.#input?.resume();
  }

  protected notifyWhenDrained(): void {
    if (this.writeBufferSize === 0 && !this.#outputFull) setImmediate(this.#onFlushed);
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
    this.#input?.pause();
    // A reason recorded first wins (an error that started the abort).
    this.#reason ??= reason ?? new Failure(new ConnectionAborted());
    if (this.#owns) {
      this.#output?.destroy();
      this.#input?.destroy();
    }
    // A pipe has no reset: output the process's own stdout already holds may still go out.
    setImmediate(() => {
      this.#closed();
    });
  }

  protected get attachedProtocol(): IProtocol {
    return this.#protocol;
  }

  protected writeRaw(data: Buffer): void {
    const output = this.#output;
    if (output === null || output.writableEnded || output.destroyed) return;
    this.#send(output, data);
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
    // Both directions are over once our own end was already out.
    if (this.#outputFinished) {
      this.#closed();
      return;
    }
    this.readConnectionLost(this.#protocol);
  }

  // ------------------------------------------------------------ internals

  /** Reads are held back: by a producer, the output's backlog, or a close. */
  #readsHeldBack(): boolean {
    return this.readPaused || this.closeRequested || this.lost;
  }

  /** Writes now when the stream holds nothing unsent, else queues behind it. */
  #send(output: Writable, data: WriteData): void {
    const queue = this.#queue;
    if ((queue === null || queue.empty) && !this.#outputFull && output.writableLength === 0) {
      if (!output.write(data)) this.#outputFull = true;
      return;
    }
    (this.#queue ??= new WriteQueue()).push(data);
    this.#awaitFlush();
  }

  /** Asks to be told (#streamFlushed) once everything handed to the output so far is flushed. */
  #awaitFlush(): void {
    const output = this.#output;
    if (this.#flushAwaited || output === null || output.destroyed || output.writableEnded) return;
    this.#flushAwaited = true;
    // A full stream says so with 'drain' (#onDrain). Otherwise an empty
    // write's callback runs once everything before it was flushed, whether
    // or not the stream's own high-water mark was reached.
    if (!this.#outputFull) output.write(EMPTY, this.#onFlushed);
  }

  #streamFlushed(): void {
    this.#flushAwaited = false;
    const output = this.#output;
    if (this.lost || output === null || output.destroyed) return;
    const queue = this.#queue;
    if (queue !== null && !queue.empty && !this.#outputFull && output.writableLength === 0) {
      queue.flushTo(this.#sink);
    }
    if (this.#outputFull || output.writableLength + (this.#queue?.size ?? 0) > 0) {
      this.#awaitFlush();
      return;
    }
    if (this.#endAfterFlush) {
      this.#endAfterFlush = false;
      this.#end();
    }
    if (this.drainAwaited) this.writeBufferDrained();
  }

  /** The queue's sink: the output stream, which buffers whatever its descriptor does not take. */
  readonly #sink: ByteSink = {
    write: (data, byteOffset, byteLength) => {
      const output = this.#output;
      if (output === null || output.destroyed || output.writableEnded) return -1;
      // The stream asked to wait: the rest stays queued until its 'drain'.
      if (this.#outputFull) return 0;
      const accepted = output.write(
        byteOffset === 0 && byteLength === data.byteLength
          ? data
          : data.subarray(byteOffset, byteOffset + byteLength),
      );
      if (!accepted) this.#outputFull = true;
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
    } else if (this.closeRequested && this.#outputFinished) {
      // loseConnection() after a completed loseWriteConnection(): nothing left to send.
      this.#closed();
    }
  }

  /**
   * The write side is over and flushed: end the output (its 'finish' goes
   * on), except this process's own stdout/stderr on a full close, which
   * is lost at once.
   */
  #endOutput(raw: boolean): void {
    const output = this.#output;
    if (
      output === null ||
      output.writableEnded ||
      output.destroyed ||
      (this.closeRequested && !raw && isProcessStdio(output))
    ) {
      if (this.closeRequested || this.#inputEnded) {
        setImmediate(() => {
          this.#closed();
        });
      }
      return;
    }
    output.end();
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
    if (this.#owns) {
      this.#output?.destroy();
      this.#input?.destroy();
    }
    this.#closed();
  }

  /** The connection is gone: stop reading, tell the protocol once, then the owner. */
  #closed(): void {
    if (this.lost) return;
    this.#queue = null;
    const input = this.#input;
    if (input !== null) {
      input.removeListener('data', this.#onData);
      input.removeListener('end', this.#onInputEnd);
      input.removeListener('error', this.#onInputError);
      if (this.#owns) {
        input.destroy();
      } else {
        // Paused, so the process's own stdin no longer keeps it alive. Node
        // stops reading its descriptor on the 'pause' event of a flowing
        // stream, and a pause made while a read was in flight (from inside
        // dataReceived) left it reading: flow once more, with no listener
        // left, and pause again.
        if (input.isPaused()) input.resume();
        input.pause();
      }
    }
    this.#held = null;
    // The 'error' listener stays on the output (see the class remarks).
    this.#output?.removeListener('finish', this.#onOutputFinish);
    this.#output?.removeListener('drain', this.#onDrain);
    this.connectionEnded(this.#protocol, this.#reason, this.#owner);
  }
}

/** Whether `stream` is this process's own stdout or stderr, which a full close never ends. */
function isProcessStdio(stream: Writable): boolean {
  return stream === process.stdout || stream === process.stderr;
}
