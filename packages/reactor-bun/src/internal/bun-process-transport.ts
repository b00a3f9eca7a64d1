/**
 * `BunProcessTransport`: a child process on the Bun reactor, started with
 * `node:child_process` as Bun implements it. Bun hands each pipe over as a
 * Node stream (a `Writable` for the child's stdin, a `Readable` for its
 * output, a `Socket` for descriptors above 2), and each becomes a one-way
 * {@link StreamTransport} that owns it: the write queue, the high-water mark,
 * producers and pausing of every other transport. {@link BaseProcessTransport}
 * does the rest (call order, `processEnded` after the exit and every pipe,
 * fault isolation). Why not `Bun.spawn`: see docs/reactor-bun.md.
 *
 * Tests: test/process.bun.test.ts, test/types/process.test-d.ts, and the process section of the
 * conformance suite (test/conformance.bun.test.ts)
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import {
  errorCode,
  Logger,
  ProcessSpawnError,
  UNIXAddress,
  type IProcessProtocol,
} from '@torsion/core';
import {
  BaseProcessTransport,
  exitReason,
  StreamTransport,
  stdioFor,
  type SpawnSettings,
} from '@torsion/core/reactor-kit';

const log = new Logger('torsion.bun.process');

/** The pipes' stream transports have no addresses of their own; these stand in, never shown to users. */
const PIPE_ADDRESS = new UNIXAddress(null);
const PIPE_NAMES = { input: 'a pipe from the child', output: 'a pipe to the child' };

/** A child process on Bun; user code sees it as `IProcessTransport`. */
export class BunProcessTransport extends BaseProcessTransport {
  #child: ChildProcess | null = null;
  readonly #executable: string;

  /**
   * Starts the child and connects `protocol` to it (before returning).
   * @param highWaterMark - the write high-water mark of its input pipes.
   */
  constructor(protocol: IProcessProtocol, settings: SpawnSettings, highWaterMark: number) {
    super(protocol, settings.childFDs);
    this.#executable = settings.executable;
    let child: ChildProcess;
    try {
      child = spawn(settings.executable, settings.args, {
        argv0: settings.argv0,
        cwd: settings.cwd,
        env: settings.env ?? process.env,
        stdio: stdioFor(settings.childFDs),
        ...(settings.uid === undefined ? {} : { uid: settings.uid }),
        ...(settings.gid === undefined ? {} : { gid: settings.gid }),
      });
    } catch (err) {
      // A failure the runtime throws instead of reporting it as 'error'.
      this.connect();
      setImmediate(() => {
        this.#failed(err);
      });
      return;
    }
    this.#child = child;
    // 'error' first: from here on nothing the child does is an uncaught exception.
    child.on('error', (err) => {
      if (child.pid === undefined) this.#failed(err);
      else log.failure('Error from a child process', err, { process: this.toString() });
    });
    if (child.pid === undefined) {
      for (const stream of child.stdio) stream?.destroy();
      this.connect();
      return;
    }
    this.started(child.pid);
    child.stdio.forEach((stream, fd) => {
      if (stream === null) return;
      const mode = settings.childFDs.get(fd);
      if (mode !== 'r' && mode !== 'w') return;
      const transport = new StreamTransport(this.pipeProtocol(fd), {
        input: mode === 'r' ? (stream as Readable) : null,
        output: mode === 'w' ? (stream as Writable) : null,
        host: PIPE_ADDRESS,
        peer: PIPE_ADDRESS,
        log,
        names: PIPE_NAMES,
        ownsStreams: true,
        writeHighWaterMark: highWaterMark,
      });
      transport.start();
      this.addPipe(fd, transport);
    });
    // As on Node: the runtime may resume the stdio streams it still lists
    // once the child exits, which would undo pauseProducing(). They are ours.
    const listed = child.stdio as unknown as (Readable | Writable | null)[];
    for (let fd = 0; fd < listed.length; fd++) listed[fd] = null;
    child.on('exit', (code, signal) => {
      this.exited(exitReason(code, signal, constants.signals));
    });
    this.connect();
  }

  protected get log(): Logger {
    return log;
  }

  protected get knownSignals(): Readonly<Record<string, number>> {
    return constants.signals;
  }

  protected sendSignal(signal: string | number): void {
    this.#child?.kill(signal as NodeJS.Signals | number);
  }

  #failed(err: unknown): void {
    if (this.hasExited) return;
    this.spawnFailed(
      new ProcessSpawnError(this.#executable, errorCode(err) ?? 'UNKNOWN', { cause: err }),
    );
  }
}
