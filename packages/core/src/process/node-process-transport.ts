/**
 * `NodeProcessTransport`: a child process started with `node:child_process`,
 * on Node and, through Bun's implementation of that module, on the Bun
 * reactor (which subclasses it only to log under its own name). Each pipe
 * becomes a one-way {@link StreamTransport} that owns the runtime's stream
 * for it (a socket on Node; a `Writable`, a `Readable` or a socket on Bun),
 * driven by {@link BaseProcessTransport}. Node reports a failed start
 * (`ENOENT`, `EACCES`) as an `'error'` event, and some (`EPERM` for `uid`)
 * by throwing: both become a ProcessSpawnError on a later turn, never an
 * exception.
 *
 * Why StreamTransport on Node too, not the UNIX-socket transport over Node's
 * pipe sockets: both have the same write queue, high-water mark and producer
 * handling (BaseTransport's), and through `cat` they move bytes at the same
 * rate (bench/process-pipe.ts, see docs/performance.md "Processes"); one pipe
 * transport means the two runtimes' children cannot drift apart, and none of
 * the socket transport's TCP concerns (RST, Nagle, the shared read buffer)
 * applies to a pipe.
 *
 * Tests: test/process/node-process.integration.test.ts,
 * test/process/cat-round-trip.integration.test.ts, and the process section
 * of the conformance suite on the Node and Bun reactors
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { UNIXAddress } from '../address.js';
import { errorCode } from '../error-code.js';

import type { IProcessProtocol } from '../interfaces.js';
import { Logger } from '../log.js';
import { StreamTransport } from '../stdio/stream-transport.js';
import { BaseProcessTransport } from './base-process-transport.js';
import { exitReason } from './exit-reason.js';
import { ProcessSpawnError } from './process-errors.js';
import { stdioFor, type SpawnSettings } from './spawn-checks.js';

const log = new Logger('torsion.process');

/** The pipes' stream transports have no addresses of their own; these stand in, never shown to users. */
const PIPE_ADDRESS = new UNIXAddress(null);
/** What a pipe's failure names, from the parent's side. */
const PIPE_NAMES = { input: 'a pipe from the child', output: 'a pipe to the child' };

/** A child process on Node; user code sees it as `IProcessTransport`. */
export class NodeProcessTransport extends BaseProcessTransport {
  #child: ChildProcess | null = null;
  readonly #executable: string;
  readonly #log: Logger;

  /**
   * Starts the child and connects `protocol` to it (before returning).
   * @param highWaterMark - the write high-water mark of its input pipes.
   * @param logger - where exceptions from the protocol and the child's errors are logged.
   */
  constructor(
    protocol: IProcessProtocol,
    settings: SpawnSettings,
    highWaterMark: number,
    logger: Logger = log,
  ) {
    super(protocol, settings.childFDs);
    this.#executable = settings.executable;
    this.#log = logger;
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
      // The runtime throws for the failures it does not report as 'error' (EPERM, EINVAL).
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
      else logger.failure('Error from a child process', err, { process: this.toString() });
    });
    if (child.pid === undefined) {
      // Not started: Node made placeholder sockets with no pipe behind them.
      for (const stream of child.stdio) (stream as Socket | null)?.destroy();
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
        log: logger,
        names: PIPE_NAMES,
        ownsStreams: true,
        writeHighWaterMark: highWaterMark,
      });
      transport.start();
      this.addPipe(fd, transport);
    });
    // Node resumes every stdio stream it still lists once the child exits
    // (so that unread output cannot keep a process alive); that would undo
    // pauseProducing(). The pipes are ours now, so it lists none.
    const listed = child.stdio as unknown as (Socket | null)[];
    for (let fd = 0; fd < listed.length; fd++) listed[fd] = null;
    child.on('exit', (code, signal) => {
      this.exited(exitReason(code, signal, constants.signals));
    });
    this.connect();
  }

  protected get log(): Logger {
    return this.#log;
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
