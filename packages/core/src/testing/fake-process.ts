/**
 * `FakeProcessTransport`: a child process that is not there. The test plays
 * the child — it writes to the parent's pipes, closes them, exits or dies of
 * a signal — and reads back what the parent wrote to the child's stdin and
 * which signals it sent. `MemoryReactor.spawnProcess` returns one (the test
 * drives it by hand); SimulatedReactor's scripted processes drive one on the
 * virtual clock. The call order, `processEnded` after the exit and every
 * pipe, and fault isolation are the real reactors' (BaseProcessTransport).
 *
 * Tests: test/process/simulated-process.test.ts
 * @module
 */
import { UNIXAddress } from '../address.js';
import { ConnectionDone } from '../errors.js';
import { Failure } from '../failure.js';
import type {
  IProcessProtocol,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IStreamTransport,
  WriteData,
} from '../interfaces.js';
import { toBuffer } from '../internal/write-data.js';
import { isHalfCloseable } from '../half-closeable.js';
import { Logger } from '../log.js';
import { BaseProcessTransport } from '../process/base-process-transport.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { exitReason } from '../process/exit-reason.js';
import { ProcessSpawnError } from '../process/process-errors.js';
import type { SpawnSettings } from '../process/spawn-checks.js';
import { describeType } from '../describe-type.js';

const log = new Logger('torsion.testing.process');
const PIPE_ADDRESS = new UNIXAddress(null);

/** The signal numbers a fake child reports (Linux's). */
const FAKE_SIGNALS: Readonly<Record<string, number>> = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
});

function runNow(fn: () => void): void {
  fn();
}

/** What a fake child's side hears of the parent. */
export interface FakeChildListener {
  /** The parent wrote `data` to the child's descriptor `childFD`. */
  parentWrote?(childFD: number, data: Buffer): void;
  /** The parent closed its end of the pipe to `childFD` (for an input pipe: the child reads EOF). */
  parentClosed?(childFD: number): void;
  /** The parent sent `signal` (a `'SIG…'` name or a number). */
  signalled?(signal: string | number): void;
}

/**
 * One pipe of a fake child: a stream transport whose far end is the test.
 * Output held back while paused (with the end behind it) is delivered on
 * `resumeProducing()`, as a real pipe would. What the parent writes to a
 * pipe to the child stays unread until the child takes it
 * ({@link FakePipe.take}); above the high-water mark a streaming producer is
 * paused, and resumed once the child has taken everything, as on a real
 * reactor's pipe (a pull producer is asked for more each time it is empty).
 */
class FakePipe implements IStreamTransport {
  readonly #protocol: IProtocol;
  readonly #onWrite: (data: Buffer) => void;
  readonly #onClose: () => void;
  #closed = false;
  #paused = false;
  #pending: Buffer[] = [];
  #endPending = false;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  /** Written by the parent, not yet taken by the child. */
  #unread: Buffer[] = [];
  #unreadBytes = 0;
  readonly #highWaterMark: number;

  readonly #defer: (fn: () => void) => void;
  #closing = false;

  constructor(
    protocol: IProtocol,
    onWrite: (data: Buffer) => void,
    onClose: () => void,
    defer: (fn: () => void) => void,
    highWaterMark: number,
  ) {
    this.#protocol = protocol;
    this.#defer = defer;
    this.#highWaterMark = highWaterMark;
    this.#onWrite = onWrite;
    this.#onClose = onClose;
    protocol.makeConnection(this);
  }

  get closed(): boolean {
    return this.#closing || this.#closed;
  }

  get disconnecting(): boolean {
    return this.#closing || this.#closed;
  }

  get producer(): IPushProducer | IPullProducer | null {
    return this.#producer;
  }

  /** The child wrote `data`. */
  deliver(data: Buffer): void {
    if (this.#closing || this.#closed) return;
    if (this.#paused || this.#pending.length > 0) {
      this.#pending.push(data);
      return;
    }
    this.#protocol.dataReceived(data);
  }

  /** The child closed its end. */
  end(): void {
    if (this.#closing || this.#closed) return;
    if (this.#paused || this.#pending.length > 0) {
      this.#endPending = true;
      return;
    }
    if (isHalfCloseable(this.#protocol)) this.#protocol.readConnectionLost();
    else this.#close();
  }

  /** Bytes the parent wrote that the child has not taken yet. */
  get unreadBytes(): number {
    return this.#unreadBytes;
  }

  write(data: WriteData): void {
    const bytes = toBuffer(data);
    if (this.#closing || this.#closed || bytes.length === 0) return;
    const copy = Buffer.from(bytes);
    this.#unread.push(copy);
    this.#unreadBytes += copy.length;
    this.#onWrite(copy);
    const producer = this.#producer;
    if (
      producer !== null &&
      this.#streaming &&
      !this.#producerPaused &&
      this.#unreadBytes > this.#highWaterMark
    ) {
      this.#producerPaused = true;
      (producer as IPushProducer).pauseProducing();
    }
  }

  /**
   * The child reads up to `maxBytes` of what the parent wrote. Once nothing
   * is left unread, a paused streaming producer is resumed (a pull producer
   * asked for more).
   * @returns the bytes taken (empty when nothing was waiting).
   */
  take(maxBytes: number): Buffer {
    const taken: Buffer[] = [];
    let room = maxBytes;
    for (let head = this.#unread[0]; head !== undefined && room > 0; head = this.#unread[0]) {
      if (head.length <= room) {
        this.#unread.shift();
        taken.push(head);
        room -= head.length;
      } else {
        taken.push(head.subarray(0, room));
        this.#unread[0] = head.subarray(room);
        room = 0;
      }
    }
    const out = Buffer.concat(taken);
    this.#unreadBytes -= out.length;
    if (this.#unreadBytes === 0 && out.length > 0) this.#drained();
    return out;
  }

  writeSequence(data: Iterable<WriteData>): void {
    for (const item of data) this.write(item);
  }

  loseConnection(): void {
    this.#close();
  }

  abortConnection(): void {
    this.#close();
  }

  loseWriteConnection(): void {
    this.#close();
  }

  getHost(): UNIXAddress {
    return PIPE_ADDRESS;
  }

  getPeer(): UNIXAddress {
    return PIPE_ADDRESS;
  }

  pauseProducing(): void {
    this.#paused = true;
  }

  resumeProducing(): void {
    this.#paused = false;
    // dataReceived may pause or close the pipe again: re-read the state each time.
    while (this.#flowing() && this.#pending.length > 0) {
      const next = this.#pending.shift();
      if (next !== undefined) this.#protocol.dataReceived(next);
    }
    if (this.#flowing() && this.#pending.length === 0 && this.#endPending) {
      this.#endPending = false;
      this.end();
    }
  }

  stopProducing(): void {
    this.#close();
  }

  /**
   * Attaches a producer: a streaming one is paused while more than the
   * high-water mark is unread; a pull one is asked for data now and each time
   * the child has taken everything. On a closed pipe it is told `stopProducing()`.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${describeType(producer)}: one is already registered`,
      );
    }
    if (this.#closed) {
      producer.stopProducing();
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (streaming && this.#unreadBytes > this.#highWaterMark) {
      this.#producerPaused = true;
      (producer as IPushProducer).pauseProducing();
    } else if (!streaming) {
      producer.resumeProducing();
    }
  }

  unregisterProducer(): void {
    this.#producer = null;
    this.#producerPaused = false;
  }

  /** The child took everything: the producer may go on. */
  #drained(): void {
    const producer = this.#producer;
    if (producer === null || this.#closing || this.#closed) return;
    if (!this.#streaming) {
      producer.resumeProducing();
    } else if (this.#producerPaused) {
      this.#producerPaused = false;
      producer.resumeProducing();
    }
  }

  #flowing(): boolean {
    return !this.#paused && !this.#closing && !this.#closed;
  }

  /** Closes on a later turn (as a real pipe does), or at once without a clock. */
  #close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    this.#defer(() => {
      this.#closeNow();
    });
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    // What the child has not read stays readable, as in a real pipe whose writer closed.
    this.#pending = [];
    const producer = this.#producer;
    this.#producer = null;
    producer?.stopProducing();
    this.#onClose();
    this.#protocol.connectionLost(new Failure(new ConnectionDone()));
  }
}

/**
 * A fake child process: the parent's side is the real process transport
 * contract; the child's side is these methods, for the test.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactor();
 * const proto = new RecordingProcessProtocol();
 * const child = reactor.spawnProcess(proto, 'ls', ['-l']);
 * child.childWrites(1, 'total 0\n');
 * child.childExits(0);
 * expect(proto.text()).to.equal('total 0\n');
 * ```
 */
export class FakeProcessTransport extends BaseProcessTransport {
  /** What was asked for: executable, args, env, path, childFDs… */
  readonly settings: SpawnSettings;
  /** Every signal the parent sent, in order (`'SIGTERM'`, or a number). */
  readonly signals: (string | number)[] = [];
  readonly #written = new Map<number, Buffer[]>();
  readonly #fakePipes = new Map<number, FakePipe>();
  readonly #listener: FakeChildListener;

  /**
   * Connects `protocol` (its `connectionMade()` runs now).
   * @param pid - the pid to report, or `null` for a child that will fail to start ({@link FakeProcessTransport.failToStart}).
   * @param listener - told what the parent does, for a scripted child.
   * @param defer - runs a pipe's close on a later turn (a reactor's
   *   `callLater(0, …)`); by default it runs at once, for a test with no clock.
   * @param highWaterMark - unread bytes on a pipe to the child above which a
   *   streaming producer is paused (default 64 KiB, as on the reactors).
   */
  constructor(
    protocol: IProcessProtocol,
    settings: SpawnSettings,
    pid: number | null,
    listener: FakeChildListener = {},
    defer: (fn: () => void) => void = runNow,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
  ) {
    super(protocol, settings.childFDs);
    this.settings = settings;
    this.#listener = listener;
    if (pid !== null) {
      this.started(pid);
      for (const [fd, mode] of settings.childFDs) {
        if (mode !== 'r' && mode !== 'w') continue;
        const pipe = new FakePipe(
          this.pipeProtocol(fd),
          (data) => {
            let chunks = this.#written.get(fd);
            if (chunks === undefined) this.#written.set(fd, (chunks = []));
            chunks.push(data);
            this.#listener.parentWrote?.(fd, data);
          },
          () => {
            if (!this.hasExited) this.#listener.parentClosed?.(fd);
          },
          defer,
          highWaterMark,
        );
        this.#fakePipes.set(fd, pipe);
        this.addPipe(fd, pipe);
      }
    }
    this.connect();
  }

  protected get log(): Logger {
    return log;
  }

  protected get knownSignals(): Readonly<Record<string, number>> {
    return FAKE_SIGNALS;
  }

  protected sendSignal(signal: string | number): void {
    this.signals.push(signal);
    this.#listener.signalled?.(signal);
  }

  // ------------------------------------------------------------ the child's side, for the test

  /** What the parent wrote to the child's descriptor `childFD` (default stdin), as one buffer. */
  written(childFD = 0): Buffer {
    return Buffer.concat(this.#written.get(childFD) ?? []);
  }

  /** What the parent wrote to `childFD` (default stdin), as UTF-8 text. */
  writtenText(childFD = 0): string {
    return this.written(childFD).toString('utf8');
  }

  /** True while the pipe to `childFD` is open (false for one never opened). */
  isOpen(childFD: number): boolean {
    const pipe = this.#fakePipes.get(childFD);
    return pipe !== undefined && !pipe.closed;
  }

  /** The producer registered on stdin, if any. */
  get stdinProducer(): IPushProducer | IPullProducer | null {
    return this.#fakePipes.get(0)?.producer ?? null;
  }

  /**
   * Bytes the parent wrote to `childFD` (default stdin) that the child has
   * not read ({@link FakeProcessTransport.childReads}); a streaming producer
   * is paused while this is above the high-water mark.
   */
  unreadBytes(childFD = 0): number {
    return this.#fakePipes.get(childFD)?.unreadBytes ?? 0;
  }

  /**
   * The child reads up to `maxBytes` (default: all) of what the parent wrote
   * to its descriptor `childFD` (default stdin). Once nothing is left unread,
   * a producer paused by the high-water mark is resumed. Everything written
   * stays in {@link FakeProcessTransport.written} either way.
   * @returns the bytes read (empty when nothing was waiting).
   * @throws RangeError if `childFD` is not a pipe the parent writes to ('w').
   */
  childReads(childFD = 0, maxBytes = Infinity): Buffer {
    const pipe = this.#fakePipes.get(childFD);
    if (pipe === undefined || this.settings.childFDs.get(childFD) !== 'w') {
      throw new RangeError(`childFD ${String(childFD)} is not a pipe the parent writes to ('w')`);
    }
    return pipe.take(maxBytes);
  }

  /**
   * The child writes `data` to its descriptor `childFD` (an `'r'` pipe).
   * Dropped once the pipe is closed; held while the parent paused reading.
   * @throws RangeError if `childFD` is not a pipe the parent reads.
   */
  childWrites(childFD: number, data: WriteData): void {
    this.#readPipe(childFD).deliver(Buffer.from(toBuffer(data)));
  }

  /** The child closes its descriptor `childFD`: the parent reads the end (after anything held back). */
  childClosesFD(childFD: number): void {
    const pipe = this.#fakePipes.get(childFD);
    if (pipe === undefined) {
      throw new RangeError(`childFD ${String(childFD)} is not a pipe to the child`);
    }
    pipe.end();
  }

  /**
   * The child exits with `exitCode`. Its pipes close too (output held back
   * by a pause is delivered first, on `resumeProducing()`), unless
   * `keepPipesOpen` (a grandchild holds them).
   */
  childExits(exitCode = 0, options: { keepPipesOpen?: boolean } = {}): void {
    this.#end(exitCode, null, options.keepPipesOpen ?? false);
  }

  /** The child dies of `signal` (default `'SIGTERM'`); its pipes close as for {@link FakeProcessTransport.childExits}. */
  childKilled(signal = 'SIGTERM', options: { keepPipesOpen?: boolean } = {}): void {
    this.#end(
      null,
      signal.startsWith('SIG') ? signal : `SIG${signal}`,
      options.keepPipesOpen ?? false,
    );
  }

  /**
   * The child could not be started (made with pid `null`): `processExited`
   * and `processEnded` get a ProcessSpawnError with `systemCode` (default ENOENT).
   */
  failToStart(systemCode = 'ENOENT'): void {
    if (this.pid !== null || this.hasExited) {
      throw new Error('failToStart() is for a child made with pid null that has not ended');
    }
    this.spawnFailed(new ProcessSpawnError(this.settings.executable, systemCode));
  }

  #readPipe(childFD: number): FakePipe {
    const pipe = this.#fakePipes.get(childFD);
    if (pipe === undefined || this.settings.childFDs.get(childFD) !== 'r') {
      throw new RangeError(`childFD ${String(childFD)} is not a pipe the parent reads ('r')`);
    }
    return pipe;
  }

  #end(exitCode: number | null, signal: string | null, keepPipesOpen: boolean): void {
    if (this.hasExited) throw new Error('The fake child has already exited');
    this.exited(exitReason(exitCode, signal, FAKE_SIGNALS));
    if (keepPipesOpen) return;
    for (const [fd, pipe] of this.#fakePipes) {
      if (this.settings.childFDs.get(fd) === 'r') pipe.end();
    }
  }
}
