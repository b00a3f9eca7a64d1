/**
 * `NodeProcessTransport`: a child process started with `node:child_process`.
 * Node makes each pipe a socket; each becomes a UNIX-socket stream transport
 * (the TCP machinery: write queue, high-water mark, producers), driven by
 * {@link BaseProcessTransport}. Node reports a failed start (`ENOENT`,
 * `EACCES`) as an `'error'` event, and some (`EPERM` for `uid`) by throwing:
 * both become a ProcessSpawnError on a later turn, never an exception.
 *
 * Tests: test/process/node-process.integration.test.ts, and the process
 * section of the conformance suite on the Node reactor
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Socket } from 'node:net';
import { UNIXAddress } from '../address.js';
import { errorCode } from '../error-code.js';

import type { IProcessProtocol } from '../interfaces.js';
import { UNIXTransport } from '../internal/unix-transport.js';
import { Logger } from '../log.js';
import { BaseProcessTransport } from './base-process-transport.js';
import { exitReason } from './exit-reason.js';
import { ProcessSpawnError } from './process-errors.js';
import { stdioFor, type SpawnSettings } from './spawn-checks.js';

const log = new Logger('torsion.process');

/** The pipes' stream transports have no addresses of their own; these stand in, never shown to users. */
const PIPE_ADDRESS = new UNIXAddress(null);
/** A pipe's transport reports its end through its protocol; its owner has nothing to do. */
const NO_OWNER = { transportClosed(): void {} };

/** A child process on Node; user code sees it as `IProcessTransport`. */
export class NodeProcessTransport extends BaseProcessTransport {
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
      // Node throws for the failures it does not report as 'error' (EPERM, EINVAL).
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
      const transport = new UNIXTransport(
        stream as Socket,
        this.pipeProtocol(fd),
        PIPE_ADDRESS,
        PIPE_ADDRESS,
        NO_OWNER,
        highWaterMark,
      );
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
