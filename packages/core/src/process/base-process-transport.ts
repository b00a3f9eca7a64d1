/**
 * `BaseProcessTransport`: what every reactor's process transport shares —
 * the protocol's call order, `processEnded` only after the exit *and* every
 * pipe closed, fault isolation, `signalProcess` after the exit, and the
 * routing of writes, closes, producers and pauses to the right pipe.
 *
 * Each pipe to the child is an ordinary stream transport (`IStreamTransport`):
 * on Node and Bun a StreamTransport over the pipe the runtime made, so a
 * child's stdin has the write queue, high-water mark and producer handling
 * of a TCP connection (BaseTransport's), and pausing the process pauses the
 * reading of its output pipes exactly as it pauses a socket. The
 * reactor attaches {@link BaseProcessTransport.pipeProtocol} to each pipe and
 * reports the start, the exit and a failed start; this class does the rest.
 *
 * Tests: test/process/simulated-process.test.ts,
 * test/process/node-process.integration.test.ts, and the process section of
 * the conformance suite (@torsion/reactor-conformance)
 * @module
 */
import { describeType } from '../describe-type.js';
import { Failure } from '../failure.js';
import type {
  ChildFDMode,
  IHalfCloseableProtocol,
  IProcessProtocol,
  IProcessTransport,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IStreamTransport,
  ITransport,
  ProcessSignal,
  WriteData,
} from '../interfaces.js';
import { assertWriteData } from '../internal/write-data.js';
import type { Logger } from '../log.js';
import { ProcessAddress } from './process-address.js';
import { ProcessExitedAlready, type ProcessSpawnError } from './process-errors.js';
import { checkSignal } from './spawn-checks.js';

/**
 * The protocol a reactor attaches to the transport of one pipe: it forwards
 * the pipe's bytes and its end to the process transport. It is half-closeable,
 * so the end of the child's side of a pipe is heard here and decided on: an
 * output pipe closes at once, an input pipe once what was written to it was
 * flushed (or could not be).
 */
class PipeProtocol implements IProtocol, IHalfCloseableProtocol {
  #transport: ITransport | null = null;
  constructor(
    readonly owner: BaseProcessTransport,
    readonly childFD: number,
  ) {}

  makeConnection(transport: ITransport): void {
    this.#transport = transport;
  }

  connectionMade(): void {}

  dataReceived(data: Buffer): void {
    this.owner.pipeData(this.childFD, data);
  }

  readConnectionLost(): void {
    const transport = this.#transport as IStreamTransport | null;
    if (transport === null) return;
    if (this.owner.modeOf(this.childFD) === 'r') transport.abortConnection();
    else transport.loseConnection();
  }

  writeConnectionLost(): void {}

  connectionLost(reason: Failure): void {
    void reason;
    this.owner.pipeClosed(this.childFD);
  }
}

/**
 * The shared half of a process transport. A reactor's subclass starts the
 * child, gives each pipe's stream transport to {@link BaseProcessTransport.addPipe}
 * (attached to {@link BaseProcessTransport.pipeProtocol}), then calls
 * {@link BaseProcessTransport.connect}; later {@link BaseProcessTransport.exited}
 * (or {@link BaseProcessTransport.spawnFailed}, on a later turn). It provides
 * {@link BaseProcessTransport.sendSignal}.
 */
export abstract class BaseProcessTransport implements IProcessTransport {
  readonly #protocol: IProcessProtocol;
  readonly #modes: ReadonlyMap<number, ChildFDMode>;
  readonly #pipes = new Map<number, IStreamTransport>();
  readonly #open = new Set<number>();
  #pid: number | null = null;
  #address = new ProcessAddress(null);
  #exitReason: Failure | null = null;
  #ended = false;
  #closing = false;
  #paused = false;
  #killedForFailure = false;

  /**
   * @param protocol - the process protocol to drive.
   * @param childFDs - the checked `childFDs` (see `checkSpawnProcess`).
   */
  protected constructor(protocol: IProcessProtocol, childFDs: ReadonlyMap<number, ChildFDMode>) {
    this.#protocol = protocol;
    this.#modes = childFDs;
  }

  // ------------------------------------------------------------ for the subclass to provide

  /** Where exceptions from the protocol are logged. */
  protected abstract get log(): Logger;

  /**
   * Sends `signal` (a `'SIG…'` name or a number) to the running child. Only
   * called before the exit was reported.
   */
  protected abstract sendSignal(signal: string | number): void;

  /** The signal names this system knows, with their numbers (Node's `os.constants.signals`). */
  protected abstract get knownSignals(): Readonly<Record<string, number>>;

  // ------------------------------------------------------------ for the subclass to call

  /** The protocol to attach to the stream transport of pipe `childFD`. */
  protected pipeProtocol(childFD: number): IProtocol {
    return new PipeProtocol(this, childFD);
  }

  /** Pipe `childFD` is open, with `transport` (attached to {@link BaseProcessTransport.pipeProtocol}). */
  protected addPipe(childFD: number, transport: IStreamTransport): void {
    this.#pipes.set(childFD, transport);
    this.#open.add(childFD);
    if (this.#paused && this.#modes.get(childFD) === 'r') transport.pauseProducing();
  }

  /** The child started with `pid`. */
  protected started(pid: number): void {
    this.#pid = pid;
    this.#address = new ProcessAddress(pid);
  }

  /**
   * Attaches the protocol: `makeConnection(this)`, so `connectionMade()`. An
   * exception there is logged and costs the process.
   */
  protected connect(): void {
    try {
      this.#protocol.makeConnection(this);
    } catch (err) {
      this.#protocolFailed('makeConnection/connectionMade', err);
    }
  }

  /**
   * The child exited (or could not start): `processExited(reason)` now,
   * `processEnded(reason)` once every pipe is closed too. The write pipes are
   * closed: nobody is left to read them (a grandchild that inherited one is
   * not waited for).
   */
  protected exited(reason: Failure): void {
    if (this.#exitReason !== null) return;
    this.#exitReason = reason;
    this.#pid = null;
    for (const [fd, pipe] of this.#pipes) {
      if (this.#modes.get(fd) === 'w' && this.#open.has(fd)) pipe.abortConnection();
    }
    this.#callProtocol('processExited', reason);
    this.#maybeEnded();
  }

  /** The child could not be started. Call it on a later turn than `spawnProcess`. */
  protected spawnFailed(error: ProcessSpawnError): void {
    for (const pipe of this.#pipes.values()) pipe.abortConnection();
    this.exited(new Failure(error));
  }

  /** True once the exit (or the failed start) was reported. */
  protected get hasExited(): boolean {
    return this.#exitReason !== null;
  }

  /** The mode of descriptor `childFD` in `childFDs` (undefined when not listed). @internal */
  modeOf(childFD: number): ChildFDMode | undefined {
    return this.#modes.get(childFD);
  }

  /** The child wrote `data` to `childFD`. @internal */
  pipeData(childFD: number, data: Buffer): void {
    if (this.#ended || this.#killedForFailure) return;
    try {
      this.#protocol.childDataReceived(childFD, data);
    } catch (err) {
      this.#protocolFailed('childDataReceived', err);
    }
  }

  /** Pipe `childFD` closed. @internal */
  pipeClosed(childFD: number): void {
    if (!this.#open.delete(childFD)) return;
    if (!this.#killedForFailure) {
      try {
        this.#protocol.childConnectionLost(childFD);
      } catch (err) {
        this.#protocolFailed('childConnectionLost', err);
      }
    }
    this.#maybeEnded();
  }

  // ------------------------------------------------------------ IProcessTransport

  get pid(): number | null {
    return this.#pid;
  }

  get disconnecting(): boolean {
    return this.#closing || this.#ended;
  }

  getHost(): ProcessAddress {
    return this.#address;
  }

  getPeer(): ProcessAddress {
    return this.#address;
  }

  write(data: WriteData): void {
    this.writeToChild(0, data);
  }

  writeSequence(data: Iterable<WriteData>): void {
    const items = [...data];
    for (const item of items) assertWriteData(item);
    const pipe = this.#writePipe(0);
    if (pipe !== undefined) pipe.writeSequence(items);
  }

  writeToChild(childFD: number, data: WriteData): void {
    assertWriteData(data);
    this.#writePipe(childFD)?.write(data);
  }

  closeStdin(): void {
    this.closeChildFD(0);
  }

  closeStdout(): void {
    this.closeChildFD(1);
  }

  closeStderr(): void {
    this.closeChildFD(2);
  }

  closeChildFD(childFD: number): void {
    const pipe = this.#pipes.get(childFD);
    if (pipe === undefined || !this.#open.has(childFD)) return;
    if (this.#modes.get(childFD) === 'w') pipe.loseConnection();
    else pipe.abortConnection();
  }

  signalProcess(signal: ProcessSignal): void {
    const checked = checkSignal(signal, this.knownSignals);
    if (this.#exitReason !== null) {
      throw new ProcessExitedAlready(
        `Cannot send ${String(checked)}: the process has already exited`,
      );
    }
    this.sendSignal(checked);
  }

  loseConnection(): void {
    if (this.#closing) return;
    this.#closing = true;
    for (const fd of [...this.#open]) this.closeChildFD(fd);
  }

  /** Stops reading the child's output (every `'r'` pipe) until `resumeProducing()`. */
  pauseProducing(): void {
    this.#paused = true;
    for (const [fd, pipe] of this.#pipes) {
      if (this.#modes.get(fd) === 'r') pipe.pauseProducing();
    }
  }

  /** Resumes reading the child's output. */
  resumeProducing(): void {
    this.#paused = false;
    for (const [fd, pipe] of this.#pipes) {
      if (this.#modes.get(fd) === 'r') pipe.resumeProducing();
    }
  }

  /** As in Twisted: the consumer is going away, so every pipe is closed (`loseConnection()`). */
  stopProducing(): void {
    this.loseConnection();
  }

  /**
   * Attaches a producer of the child's stdin, with the flow control of a TCP
   * transport. When the child has no stdin pipe (it never started, or
   * `childFDs` has no `0: 'w'`) the producer is told `stopProducing()` at once.
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    const pipe = this.#modes.get(0) === 'w' ? this.#pipes.get(0) : undefined;
    if (pipe !== undefined) {
      pipe.registerProducer(producer, streaming);
      return;
    }
    try {
      producer.stopProducing();
    } catch (err) {
      this.log.failure(`Unhandled error in ${describeType(producer)}.stopProducing`, err, {
        process: this.#address.toString(),
      });
    }
  }

  unregisterProducer(): void {
    this.#pipes.get(0)?.unregisterProducer();
  }

  /** @returns a short description for logs. */
  toString(): string {
    return `ProcessTransport(${describeType(this.#protocol)}, ${this.#address.toString()})`;
  }

  // ------------------------------------------------------------ internals

  #writePipe(childFD: number): IStreamTransport | undefined {
    if (this.#modes.get(childFD) !== 'w') {
      throw new RangeError(
        `childFD ${String(childFD)} is not a descriptor the parent writes to (childFDs has no ${String(childFD)}: 'w')`,
      );
    }
    return this.#pipes.get(childFD);
  }

  #maybeEnded(): void {
    const reason = this.#exitReason;
    if (this.#ended || reason === null || this.#open.size > 0) return;
    this.#ended = true;
    const protocol = this.#protocol as IProcessProtocol & { connected?: unknown };
    if ('connected' in protocol) protocol.connected = false;
    this.#callProtocol('processEnded', reason);
  }

  #callProtocol(method: 'processExited' | 'processEnded', reason: Failure): void {
    try {
      this.#protocol[method](reason);
    } catch (err) {
      this.log.failure(`Unhandled error in ${describeType(this.#protocol)}.${method}`, err, {
        process: this.#address.toString(),
      });
    }
  }

  /**
   * An exception from the protocol costs the process, as one from a
   * connection's protocol costs the connection: logged with its stack, the
   * child killed (SIGKILL) and every pipe closed. `processEnded` still comes.
   */
  #protocolFailed(where: string, err: unknown): void {
    this.log.failure(
      `Unhandled error in ${describeType(this.#protocol)}.${where}; killing the process`,
      err,
      { process: this.#address.toString() },
    );
    if (this.#killedForFailure) return;
    this.#killedForFailure = true;
    this.#closing = true;
    if (this.#exitReason === null && this.#pid !== null) {
      try {
        this.sendSignal('SIGKILL');
      } catch (killErr) {
        this.log.failure('Could not kill the process', killErr, {
          process: this.#address.toString(),
        });
      }
    }
    for (const fd of [...this.#open]) this.#pipes.get(fd)?.abortConnection();
  }
}
