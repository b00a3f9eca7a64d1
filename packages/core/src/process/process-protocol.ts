/**
 * `ProcessProtocol`: the base class users subclass to handle one child
 * process, with Twisted's callbacks. Every method has a do-nothing default;
 * `childDataReceived` and `childConnectionLost` dispatch descriptors 0, 1 and
 * 2 to the per-stream callbacks, so a subclass overrides only those it needs.
 *
 * Tests: test/process/process-protocol.test.ts
 * @module
 */
import type { Failure } from '../failure.js';
import type { IProcessProtocol, IProcessTransport } from '../interfaces.js';

/**
 * Handles one child process. The reactor calls, in this order:
 * `makeConnection → connectionMade → (childDataReceived | childConnectionLost)*
 * → processExited → (childDataReceived | childConnectionLost)* → processEnded`.
 * `processEnded` comes once, after the child exited and every pipe to it
 * closed (output written just before the exit is delivered before it).
 *
 * An exception thrown by a callback is logged with its stack and costs this
 * process: the reactor kills the child (SIGKILL) and closes its pipes, so
 * `processEnded` still comes, with a ProcessTerminated. An exception from
 * `processExited` or `processEnded` is only logged.
 *
 * @typeParam T - the transport type.
 */
export class ProcessProtocol<
  T extends IProcessTransport = IProcessTransport,
> implements IProcessProtocol {
  /** True from `makeConnection` until `processEnded`. */
  connected = false;
  #transport: T | null = null;

  /** The process's transport. @throws Error before `makeConnection()`. */
  get transport(): T {
    if (this.#transport === null) {
      throw new Error(
        `${this.constructor.name} has no transport yet: makeConnection() was not called`,
      );
    }
    return this.#transport;
  }

  /** True once a transport is attached (it stays attached after the process ended). */
  get hasTransport(): boolean {
    return this.#transport !== null;
  }

  /** Attaches the transport and calls {@link ProcessProtocol.connectionMade}. Called by the reactor. */
  makeConnection(transport: IProcessTransport): void {
    this.#transport = transport as T;
    this.connected = true;
    this.connectionMade();
  }

  /** The child was started (or is about to fail to start); `this.transport` is set. */
  connectionMade(): void {}

  /**
   * The child wrote `data` to descriptor `childFD`. The default calls
   * `outReceived` for 1 and `errReceived` for 2 and ignores the others.
   */
  childDataReceived(childFD: number, data: Buffer): void {
    if (childFD === 1) this.outReceived(data);
    else if (childFD === 2) this.errReceived(data);
  }

  /** The child wrote to its stdout. Chunk boundaries mean nothing. */
  outReceived(data: Buffer): void {
    void data;
  }

  /** The child wrote to its stderr. Chunk boundaries mean nothing. */
  errReceived(data: Buffer): void {
    void data;
  }

  /**
   * The pipe to descriptor `childFD` closed. The default calls
   * `inConnectionLost` for 0, `outConnectionLost` for 1, `errConnectionLost`
   * for 2 and ignores the others.
   */
  childConnectionLost(childFD: number): void {
    if (childFD === 0) this.inConnectionLost();
    else if (childFD === 1) this.outConnectionLost();
    else if (childFD === 2) this.errConnectionLost();
  }

  /** The child's stdin closed (after `closeStdin()`, or the child closed it or exited). */
  inConnectionLost(): void {}

  /** The child's stdout closed. */
  outConnectionLost(): void {}

  /** The child's stderr closed. */
  errConnectionLost(): void {}

  /**
   * The child exited; some of its pipes may still be open (a grandchild
   * holding them). `reason` wraps ProcessDone, ProcessTerminated or
   * ProcessSpawnError.
   */
  processExited(reason: Failure): void {
    void reason;
  }

  /** The child exited and every pipe to it closed; `reason` as for `processExited`. */
  processEnded(reason: Failure): void {
    void reason;
  }
}
