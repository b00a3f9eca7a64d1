/**
 * Scripted child processes for {@link SimulatedReactor}: a test declares what
 * a "child" named by its executable writes to which descriptor at what
 * virtual time, when it exits and how, or scripts it to react to its stdin
 * and to signals — so a program that runs or supervises children is tested
 * in virtual time, without a real process. A child reads its stdin one
 * virtual turn after each write, unless its script stops reading
 * ({@link ScriptedChild.stopReading}): what it has not read counts against
 * the reactor's write high-water mark, so a producer feeding a slow child
 * is paused and resumed as on a real reactor. An executable nobody scripted
 * fails to start (ProcessSpawnError, ENOENT), as a missing one would.
 *
 * Tests: test/process/simulated-process.test.ts, and the process section of
 * the conformance suite on SimulatedReactor
 * @module
 */
import type { IProcessProtocol, IReactorTime, SpawnProcessOptions } from '../../interfaces.js';
import { describeType } from '../../describe-type.js';
import type { WriteData } from '../../interfaces.js';
import { checkSpawnProcess, type SpawnSettings } from '../../process/spawn-checks.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from '../../reactor-kit/base-transport.js';
import { FakeProcessTransport } from '../fake-process.js';

/** The pid of the first scripted child. */
const FIRST_PID = 2000;

/**
 * What a scripted child does, declared. Times are virtual seconds after it
 * started. Everything is optional: `{}` is a child that reads its stdin and
 * runs until it is signalled.
 */
export interface ProcessScript {
  /** Output, in order: `data` written to `fd` (default 1, stdout) at `at` seconds. */
  output?: readonly { readonly at: number; readonly fd?: number; readonly data: WriteData }[];
  /** The exit: with `exitCode` (default 0), or killed by `signal`, at `at` seconds. Default: none. */
  exit?: { readonly at: number; readonly exitCode?: number; readonly signal?: string };
  /** Behave as `cat`: write whatever arrives on stdin to stdout, and exit 0 when stdin closes. */
  echo?: boolean;
  /** Fail to start instead, with this system code (`'ENOENT'`, `'EACCES'`). */
  spawnError?: string;
  /** Ignore signals but SIGKILL (the default is to die of any signal but 0, SIGCONT and SIGCHLD). */
  ignoreSignals?: boolean;
  /** Called once the child started, to script it further with its {@link ScriptedChild}. */
  run?: (child: ScriptedChild) => void;
}

/** The child's side of one scripted process, as a script sees it. */
export class ScriptedChild {
  /** The fake process transport (what the parent wrote, signals it sent…). */
  readonly transport: FakeProcessTransport;
  /** Called with each chunk the parent writes to the child's stdin. */
  onStdin: ((data: Buffer) => void) | null = null;
  /** Called when the parent closes the child's stdin. */
  onStdinClosed: (() => void) | null = null;
  /** Called instead of the default (dying of it) when the parent sends a signal other than SIGKILL. */
  onSignal: ((signal: string | number) => void) | null = null;
  readonly #clock: IReactorTime;
  /** Reading stdin stopped: writes wait unread in the pipe (and count against the high-water mark). */
  #stalled = false;
  /** Writes that arrived while stalled, each to be read in order. */
  #waiting: number[] = [];
  /** The parent closed stdin while stalled: heard after the waiting writes. */
  #closedWhileStalled = false;
  readonly #script: ProcessScript;

  /** @internal */
  constructor(transport: FakeProcessTransport, clock: IReactorTime, script: ProcessScript) {
    this.transport = transport;
    this.#clock = clock;
    this.#script = script;
  }

  /**
   * Stops reading stdin, as a busy or stuck child: what the parent writes
   * stays in the pipe, and a producer on it is paused above the high-water mark.
   */
  stopReading(): void {
    this.#stalled = true;
  }

  /** Reads what waited in the pipe (then the end of stdin, if it came), and goes on reading. */
  startReading(): void {
    if (!this.#stalled) return;
    this.#stalled = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const length of waiting) this._read(length);
    if (this.#closedWhileStalled) {
      this.#closedWhileStalled = false;
      this._stdinClosed();
    }
  }

  /** @internal The parent wrote `length` bytes to stdin a turn ago: read them (unless stalled). */
  _read(length: number): void {
    if (!this.running) return;
    if (this.#stalled) {
      this.#waiting.push(length);
      return;
    }
    const data = this.transport.childReads(0, length);
    if (data.length === 0) return;
    this.onStdin?.(data);
    if (this.#script.echo === true) this.write(data);
  }

  /** @internal The parent closed stdin a turn ago. */
  _stdinClosed(): void {
    if (!this.running) return;
    if (this.#stalled) {
      this.#closedWhileStalled = true;
      return;
    }
    this.onStdinClosed?.();
    if (this.#script.echo === true) this.exit(0);
  }

  /** The executable it was started as. */
  get executable(): string {
    return this.transport.settings.executable;
  }

  /** Its arguments. */
  get args(): readonly string[] {
    return this.transport.settings.args;
  }

  /** Everything the parent asked for (env, path, childFDs…). */
  get settings(): SpawnSettings {
    return this.transport.settings;
  }

  /** What the parent wrote to its stdin so far, as text. */
  get stdin(): string {
    return this.transport.writtenText(0);
  }

  /** True until it exited. */
  get running(): boolean {
    return this.transport.pid !== null;
  }

  /** Runs `fn` `seconds` virtual seconds from now (unless the child has exited by then). */
  after(seconds: number, fn: () => void): void {
    this.#clock.callLater(seconds, () => {
      if (this.running) fn();
    });
  }

  /** Writes `data` to its descriptor `fd` (default stdout). */
  write(data: WriteData, fd = 1): void {
    this.transport.childWrites(fd, data);
  }

  /** Closes its descriptor `fd`. */
  closeFD(fd: number): void {
    this.transport.childClosesFD(fd);
  }

  /** Exits with `exitCode` (default 0); its pipes close. */
  exit(exitCode = 0): void {
    if (this.running) this.transport.childExits(exitCode);
  }

  /** Dies of `signal` (default SIGTERM); its pipes close. */
  kill(signal = 'SIGTERM'): void {
    if (this.running) this.transport.childKilled(signal);
  }
}

/**
 * The scripts of one SimulatedReactor, by executable, and every child
 * started. Reach it as `reactor.processes`.
 */
export class SimulatedProcesses {
  readonly #clock: IReactorTime;
  readonly #highWaterMark: number;
  readonly #scripts = new Map<string, ProcessScript>();
  /** Every scripted child started, in order. */
  readonly started: ScriptedChild[] = [];
  #nextPid = FIRST_PID;

  /**
   * @internal
   * @param highWaterMark - the reactor's write high-water mark, for the pipes to the children.
   */
  constructor(clock: IReactorTime, highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK) {
    this.#clock = clock;
    this.#highWaterMark = highWaterMark;
  }

  /**
   * Declares what `executable` does when spawned (replacing an earlier
   * script): a {@link ProcessScript}, or a function that scripts each
   * {@link ScriptedChild}.
   * @throws TypeError for a script that is neither.
   */
  define(executable: string, script: ProcessScript | ((child: ScriptedChild) => void)): void {
    if (typeof script === 'function') {
      this.#scripts.set(executable, { run: script });
    } else if (typeof script === 'object' && (script as unknown) !== null) {
      this.#scripts.set(executable, script);
    } else {
      throw new TypeError(
        `script must be a ProcessScript or a function, got ${describeType(script)}`,
      );
    }
  }

  /** @internal What `SimulatedReactor.spawnProcess` does. */
  spawn(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[],
    options: SpawnProcessOptions,
  ): FakeProcessTransport {
    const settings = checkSpawnProcess(processProtocol, executable, args, options);
    const script = this.#scripts.get(executable);
    if (script === undefined || script.spawnError !== undefined) {
      const transport = new FakeProcessTransport(processProtocol, settings, null);
      const code = script?.spawnError ?? 'ENOENT';
      this.#clock.callLater(0, () => {
        transport.failToStart(code);
      });
      return transport;
    }
    let child: ScriptedChild | null = null;
    const clock = this.#clock;
    const defer = (fn: () => void): void => {
      clock.callLater(0, fn);
    };
    const transport = new FakeProcessTransport(
      processProtocol,
      settings,
      this.#nextPid++,
      {
        parentWrote(fd, data) {
          if (fd !== 0) return;
          const length = data.length;
          clock.callLater(0, () => {
            child?._read(length);
          });
        },
        parentClosed(fd) {
          if (fd !== 0) return;
          clock.callLater(0, () => {
            child?._stdinClosed();
          });
        },
        signalled(signal) {
          clock.callLater(0, () => {
            if (child?.running !== true) return;
            // SIGKILL cannot be caught or ignored.
            if (signal === 'SIGKILL' || signal === 9) {
              child.kill('SIGKILL');
              return;
            }
            if (child.onSignal !== null) {
              child.onSignal(signal);
              return;
            }
            if (script.ignoreSignals === true) return;
            if (signal === 0 || signal === 'SIGCONT' || signal === 'SIGCHLD') return;
            child.kill(typeof signal === 'number' ? signalName(signal) : signal);
          });
        },
      },
      defer,
      this.#highWaterMark,
    );
    child = new ScriptedChild(transport, clock, script);
    this.started.push(child);
    for (const item of script.output ?? []) {
      child.after(item.at, () => {
        child.write(item.data, item.fd ?? 1);
      });
    }
    const exit = script.exit;
    if (exit !== undefined) {
      child.after(exit.at, () => {
        if (exit.signal !== undefined) child.kill(exit.signal);
        else child.exit(exit.exitCode ?? 0);
      });
    }
    script.run?.(child);
    return transport;
  }
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  12: 'SIGUSR2',
  15: 'SIGTERM',
};

function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `SIG${String(signal)}`;
}
