/**
 * `getProcessOutput`, `getProcessValue` and `getProcessOutputAndValue`
 * (Twisted's `twisted.internet.utils`): run a command and get a Deferred of
 * what it wrote, its exit code, or both. Output is collected up to
 * `maxOutputBytes` (default 10 MiB); a child that writes more is killed and
 * the Deferred fails with ProcessOutputLimitError, so a runaway command
 * cannot exhaust the parent's memory. Cancelling the Deferred kills the child.
 *
 * Tests: test/process/get-process-output.integration.test.ts,
 * test/process/simulated-process.test.ts
 * @module
 */
import { Deferred } from '../deferred.js';
import { getReactor } from '../default-reactor.js';
import { describeType } from '../describe-type.js';
import type { Failure } from '../failure.js';
import type { IProcessTransport, IReactorProcess, SpawnProcessOptions } from '../interfaces.js';
import {
  ProcessDone,
  ProcessKilledError,
  ProcessOutputLimitError,
  ProcessStderrError,
  ProcessTerminated,
} from './process-errors.js';
import { ProcessProtocol } from './process-protocol.js';

/** The default of `maxOutputBytes`: 10 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 10 * 1024 * 1024;

/** Options of the getProcessOutput family. */
export interface GetProcessOutputOptions {
  /** The child's environment, as for `spawnProcess` (default: the parent's). */
  env?: SpawnProcessOptions['env'];
  /** The child's working directory (default: the parent's). */
  path?: string;
  /** The reactor to spawn on. Default: the installed one (`getReactor()`). */
  reactor?: IReactorProcess;
  /**
   * `getProcessOutput` only: fail with ProcessStderrError as soon as the
   * child writes to stderr (Twisted's behaviour, and the default); `false`
   * ignores stderr.
   */
  errorOnStderr?: boolean;
  /**
   * The most bytes collected from the child's stdout and stderr together.
   * Past it the child is killed (SIGKILL) and the Deferred fails with
   * ProcessOutputLimitError. Default 10 MiB.
   */
  maxOutputBytes?: number;
  /** Written to the child's stdin, which is then closed. Default: nothing (stdin closed at once). */
  input?: Uint8Array | string;
}

/** What `getProcessOutputAndValue` fires with. */
export interface ProcessOutputAndValue {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** The exit status (0–255). */
  readonly exitCode: number;
}

interface Collected {
  stdout: Buffer;
  stderr: Buffer;
  reason: Failure;
}

const OPTION_NAMES = new Set([
  'env',
  'path',
  'reactor',
  'errorOnStderr',
  'maxOutputBytes',
  'input',
]);

/** Collects a child's output up to a limit and settles one Deferred. */
class Collector extends ProcessProtocol {
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];
  #size = 0;
  #done = false;

  constructor(
    readonly result: Deferred<Collected>,
    readonly executable: string,
    readonly maxOutputBytes: number,
    readonly errorOnStderr: boolean,
    readonly keepStderr: boolean,
    readonly keepStdout: boolean,
    readonly input: Uint8Array | string | undefined,
  ) {
    super();
  }

  override connectionMade(): void {
    if (this.input !== undefined) this.transport.write(this.input);
    this.transport.closeStdin();
  }

  override outReceived(data: Buffer): void {
    if (this.keepStdout && this.#take(data)) this.#out.push(data);
  }

  override errReceived(data: Buffer): void {
    if (this.errorOnStderr) {
      this.#fail(new ProcessStderrError(this.executable, data));
      return;
    }
    if (this.keepStderr && this.#take(data)) this.#err.push(data);
  }

  override processEnded(reason: Failure): void {
    if (this.#done) return;
    this.#done = true;
    this.result.callback({
      stdout: Buffer.concat(this.#out),
      stderr: Buffer.concat(this.#err),
      reason,
    });
  }

  /** The Deferred was cancelled: the child is killed; its end is ignored. */
  kill(): void {
    this.#done = true;
    this.#killChild();
  }

  #take(data: Buffer): boolean {
    if (this.#done) return false;
    this.#size += data.length;
    if (this.#size <= this.maxOutputBytes) return true;
    const room = data.length - (this.#size - this.maxOutputBytes);
    if (room > 0) this.#out.push(data.subarray(0, room));
    this.#fail(
      new ProcessOutputLimitError(this.executable, this.maxOutputBytes, Buffer.concat(this.#out)),
    );
    this.#killChild();
    return false;
  }

  #fail(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.result.errback(error);
  }

  #killChild(): void {
    const transport: IProcessTransport = this.transport;
    transport.loseConnection();
    if (transport.pid !== null) transport.signalProcess('KILL');
  }
}

function checkOptions(options: unknown): GetProcessOutputOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, got ${describeType(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new TypeError(
        `options.${name} is not an option (env, path, reactor, errorOnStderr, maxOutputBytes, input)`,
      );
    }
  }
  const o = options as GetProcessOutputOptions;
  const max = o.maxOutputBytes;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 0)) {
    throw new RangeError(
      `options.maxOutputBytes must be a non-negative integer, got ${typeof max === 'number' ? String(max) : describeType(max)}`,
    );
  }
  if (o.errorOnStderr !== undefined && typeof o.errorOnStderr !== 'boolean') {
    throw new TypeError(
      `options.errorOnStderr must be a boolean, got ${describeType(o.errorOnStderr)}`,
    );
  }
  if (o.input !== undefined && typeof o.input !== 'string' && !(o.input instanceof Uint8Array)) {
    throw new TypeError(
      `options.input must be a string or a Uint8Array, got ${describeType(o.input)}`,
    );
  }
  return o;
}

function reactorFor(options: GetProcessOutputOptions): IReactorProcess {
  const reactor = options.reactor ?? (getReactor() as Partial<IReactorProcess>);
  if (typeof reactor.spawnProcess !== 'function') {
    throw new TypeError(
      `options.reactor must be able to spawn processes (IReactorProcess), got ${describeType(reactor)}`,
    );
  }
  return reactor as IReactorProcess;
}

interface RunSettings {
  readonly errorOnStderr: boolean;
  /** Collect stdout and stderr (getProcessValue discards both). */
  readonly keep: boolean;
  readonly keepStderr: boolean;
}

function run(
  executable: string,
  args: readonly string[],
  options: GetProcessOutputOptions,
  settings: RunSettings,
): Deferred<Collected> {
  const checked = checkOptions(options);
  const reactor = reactorFor(checked);
  let collector: Collector | null = null;
  const result = new Deferred<Collected>(() => {
    collector?.kill();
  });
  collector = new Collector(
    result,
    executable,
    settings.keep ? (checked.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES) : Infinity,
    settings.errorOnStderr && (checked.errorOnStderr ?? true),
    settings.keep && settings.keepStderr,
    settings.keep,
    checked.input,
  );
  const spawnOptions: SpawnProcessOptions = {};
  if (checked.env !== undefined) spawnOptions.env = checked.env;
  if (checked.path !== undefined) spawnOptions.path = checked.path;
  reactor.spawnProcess(collector, executable, args, spawnOptions);
  return result;
}

/** True when `reason` is an exit (ProcessDone or ProcessTerminated), not a failed start. */
function isExit(reason: Failure): boolean {
  return reason.check(ProcessDone) !== null || reason.check(ProcessTerminated) !== null;
}

/**
 * Runs `executable` with `args` and fires with what it wrote to stdout, as
 * Twisted's `getProcessOutput` (whatever its exit code). Fails with
 * ProcessStderrError when it writes to stderr (unless `errorOnStderr` is
 * false), ProcessOutputLimitError past `maxOutputBytes` (the child is
 * killed), or ProcessSpawnError when it cannot start.
 * @throws TypeError / RangeError for bad arguments, naming the field.
 */
export function getProcessOutput(
  executable: string,
  args: readonly string[] = [],
  options: GetProcessOutputOptions = {},
): Deferred<Buffer> {
  return run(executable, args, options, {
    errorOnStderr: true,
    keep: true,
    keepStderr: false,
  }).addCallback((collected) => {
    if (!isExit(collected.reason)) throw collected.reason.value;
    return collected.stdout;
  });
}

/**
 * Runs `executable` with `args` and fires with `{ stdout, stderr, exitCode }`.
 * Fails with ProcessKilledError (carrying the output) when a signal ended it,
 * ProcessOutputLimitError past `maxOutputBytes` (the child is killed), or
 * ProcessSpawnError when it cannot start.
 * @throws TypeError / RangeError for bad arguments, naming the field.
 */
export function getProcessOutputAndValue(
  executable: string,
  args: readonly string[] = [],
  options: GetProcessOutputOptions = {},
): Deferred<ProcessOutputAndValue> {
  return run(executable, args, options, {
    errorOnStderr: false,
    keep: true,
    keepStderr: true,
  }).addCallback((collected) => valueOf(executable, collected));
}

/**
 * Runs `executable` with `args` and fires with its exit code (0–255); its
 * output is read and discarded (`maxOutputBytes` does not apply). Fails with
 * ProcessKilledError when a signal ended it, ProcessSpawnError when it cannot
 * start.
 * @throws TypeError / RangeError for bad arguments, naming the field.
 */
export function getProcessValue(
  executable: string,
  args: readonly string[] = [],
  options: GetProcessOutputOptions = {},
): Deferred<number> {
  return run(executable, args, options, {
    errorOnStderr: false,
    keep: false,
    keepStderr: false,
  }).addCallback((collected) => valueOf(executable, collected).exitCode);
}

function valueOf(executable: string, collected: Collected): ProcessOutputAndValue {
  const reason = collected.reason;
  if (!isExit(reason)) throw reason.value;
  const exit = reason.value as ProcessDone | ProcessTerminated;
  if (exit.signal !== null) {
    throw new ProcessKilledError(executable, exit.signal, collected.stdout, collected.stderr);
  }
  return { stdout: collected.stdout, stderr: collected.stderr, exitCode: exit.exitCode ?? 0 };
}
