/**
 * The argument checks of `spawnProcess` and `signalProcess`, in one place, so
 * that every reactor and test double rejects the same mistakes with the same
 * error naming the field: a `TypeError` for a wrong type, a `RangeError` for a
 * value out of range, thrown at once (a child that cannot start is not a
 * programmer error and is reported later, as a ProcessSpawnError).
 *
 * Tests: test/process/spawn-checks.test.ts
 * @module
 */
import { describeType } from '../describe-type.js';
import type {
  ChildFDMode,
  IProcessProtocol,
  ProcessSignal,
  SpawnProcessOptions,
} from '../interfaces.js';

/** Twisted's default `childFDs`: the parent writes stdin, reads stdout and stderr. */
export const DEFAULT_CHILD_FDS: Readonly<Record<number, ChildFDMode>> = Object.freeze({
  0: 'w',
  1: 'r',
  2: 'r',
});

/** `spawnProcess` arguments after {@link checkSpawnProcess}: every default filled in. */
export interface SpawnSettings {
  readonly executable: string;
  readonly args: readonly string[];
  /** The whole environment, or `null` to inherit the parent's. */
  readonly env: Readonly<Record<string, string>> | null;
  /** The working directory, or `undefined` for the parent's. */
  readonly cwd: string | undefined;
  /** Descriptor → mode, in ascending descriptor order. */
  readonly childFDs: ReadonlyMap<number, ChildFDMode>;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly argv0: string;
}

const OPTION_NAMES = new Set(['env', 'path', 'childFDs', 'uid', 'gid', 'argv0']);

function checkString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a string, got ${describeType(value)}`);
  }
  if (value.includes('\0')) throw new RangeError(`${what} must not contain a NUL character`);
}

function checkId(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(
      `${what} must be a non-negative integer, got ${typeof value === 'number' ? String(value) : describeType(value)}`,
    );
  }
  return value;
}

function checkEnv(env: unknown): Readonly<Record<string, string>> | null {
  if (env === undefined || env === 'inherit') return null;
  if (env === 'empty') return {};
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new TypeError(
      `options.env must be 'inherit', 'empty' or an object of strings, got ${describeType(env)}`,
    );
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new RangeError(`options.env has an invalid variable name ${JSON.stringify(name)}`);
    }
    checkString(value, `options.env.${name}`);
    out[name] = value;
  }
  return out;
}

function checkChildFDs(childFDs: unknown): Map<number, ChildFDMode> {
  const source: unknown = childFDs ?? DEFAULT_CHILD_FDS;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new TypeError(
      `options.childFDs must be an object such as { 0: 'w', 1: 'r', 2: 'r' }, got ${describeType(source)}`,
    );
  }
  const entries: [number, ChildFDMode][] = [];
  for (const [key, mode] of Object.entries(source as Record<string, unknown>)) {
    const fd = Number(key);
    if (!/^\d+$/.test(key) || fd > 1023) {
      throw new RangeError(
        `options.childFDs keys must be descriptors 0 to 1023, got ${JSON.stringify(key)}`,
      );
    }
    if (mode === 'r' || mode === 'w') {
      entries.push([fd, mode]);
    } else if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0) {
      entries.push([fd, mode]);
    } else {
      throw new TypeError(
        `options.childFDs[${key}] must be 'r', 'w' or a parent descriptor number, got ${typeof mode === 'string' ? JSON.stringify(mode) : describeType(mode)}`,
      );
    }
  }
  entries.sort((a, b) => a[0] - b[0]);
  return new Map(entries);
}

/**
 * Checks the arguments of `spawnProcess` and fills in the defaults.
 * @throws TypeError / RangeError naming the argument or option at fault.
 */
export function checkSpawnProcess(
  processProtocol: unknown,
  executable: unknown,
  args: unknown,
  options: unknown,
): SpawnSettings {
  if (
    typeof processProtocol !== 'object' ||
    processProtocol === null ||
    typeof (processProtocol as Partial<IProcessProtocol>).makeConnection !== 'function' ||
    typeof (processProtocol as Partial<IProcessProtocol>).childDataReceived !== 'function' ||
    typeof (processProtocol as Partial<IProcessProtocol>).processEnded !== 'function'
  ) {
    throw new TypeError(
      `processProtocol must be a process protocol (a ProcessProtocol), got ${describeType(processProtocol)}`,
    );
  }
  checkString(executable, 'executable');
  if (executable === '') throw new RangeError('executable must not be empty');
  const argv = args ?? [];
  if (!Array.isArray(argv)) {
    throw new TypeError(`args must be an array of strings, got ${describeType(argv)}`);
  }
  argv.forEach((arg: unknown, index) => {
    checkString(arg, `args[${String(index)}]`);
  });
  const opts: unknown = options ?? {};
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`options must be an object, got ${describeType(opts)}`);
  }
  for (const name of Object.keys(opts)) {
    if (!OPTION_NAMES.has(name)) {
      throw new TypeError(
        `options.${name} is not a spawnProcess option (env, path, childFDs, uid, gid, argv0)`,
      );
    }
  }
  const o = opts as SpawnProcessOptions;
  if (o.path !== undefined) checkString(o.path, 'options.path');
  if (o.argv0 !== undefined) checkString(o.argv0, 'options.argv0');
  return {
    executable,
    args: Object.freeze([...(argv as string[])]),
    env: checkEnv(o.env),
    cwd: o.path,
    childFDs: checkChildFDs(o.childFDs),
    uid: checkId(o.uid, 'options.uid'),
    gid: checkId(o.gid, 'options.gid'),
    argv0: o.argv0 ?? executable,
  };
}

/**
 * Node's `stdio` array for checked `childFDs` (as `child_process.spawn`
 * takes it, on Node and on Bun): `'pipe'` for `'r'`/`'w'`, the parent's
 * descriptor number for an inherited one, and `'ignore'` for every gap up to
 * the highest descriptor listed (and for 0–2 when they are not listed).
 */
export function stdioFor(
  childFDs: ReadonlyMap<number, ChildFDMode>,
): ('pipe' | 'ignore' | number)[] {
  let last = 2;
  for (const fd of childFDs.keys()) last = Math.max(last, fd);
  const stdio: ('pipe' | 'ignore' | number)[] = [];
  for (let fd = 0; fd <= last; fd++) {
    const mode = childFDs.get(fd);
    stdio.push(mode === undefined ? 'ignore' : typeof mode === 'number' ? mode : 'pipe');
  }
  return stdio;
}

/**
 * The signal `signal` names, as Node's `kill()` takes it: `'TERM'` and
 * `'SIGTERM'` are `'SIGTERM'`, a number stays a number.
 * @param known - the signal names this system has (Node's
 *   `os.constants.signals`); a name not in it is refused.
 * @throws RangeError for an unknown name or a number that is not a signal.
 */
export function checkSignal(
  signal: ProcessSignal,
  known: Readonly<Record<string, number>>,
): string | number {
  if (typeof signal === 'number') {
    if (!Number.isInteger(signal) || signal < 0 || signal > 64) {
      throw new RangeError(`signal must be a signal name or number 0 to 64, got ${String(signal)}`);
    }
    return signal;
  }
  if (typeof signal !== 'string') {
    throw new TypeError(
      `signal must be a name such as 'TERM' or a number, got ${describeType(signal)}`,
    );
  }
  const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  if (!(name in known)) {
    throw new RangeError(`signal ${JSON.stringify(signal)} is not a signal this system knows`);
  }
  return name;
}
