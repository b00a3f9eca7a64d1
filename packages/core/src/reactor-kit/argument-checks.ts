/**
 * The argument checks of the reactor and transport API, in one place, so that
 * every reactor and every test double rejects the same mistakes with the same
 * error: `listenTCP(-1)` throws the same RangeError on Node, on Bun, in the
 * simulated network and in `MemoryReactor`. Programmer errors throw at once
 * (`TypeError` for a wrong type, `RangeError` for a value out of range); they
 * are never reported later as a failure.
 *
 * Tests: test/reactor-kit/argument-checks.test.ts, and the argument part of
 * the conformance suite (@torsion/reactor-conformance) on every reactor
 * @module
 */
import { describeType } from '../describe-type.js';
import type {
  ConnectTCPOptions,
  ConnectUNIXOptions,
  ListenTCPOptions,
  ListenUNIXOptions,
  WriteData,
} from '../interfaces.js';
import { assertWriteData } from '../internal/write-data.js';

/** `listenTCP` options after {@link checkListenTCP}: every default filled in. */
export interface CheckedListenTCPOptions {
  readonly backlog: number;
  readonly iface: string;
}

/** `connectTCP` options after {@link checkConnectTCP}: every default filled in. */
export interface CheckedConnectTCPOptions {
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  readonly bindAddress?: { readonly host: string; readonly port?: number };
}

/**
 * Checks a TCP port number.
 * @param min - 0 where the OS may choose (listening), 1 where it may not (connecting).
 * @throws RangeError unless `port` is an integer from `min` to 65535.
 */
export function checkPort(port: unknown, min: 0 | 1): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(
      `port must be an integer from ${String(min)} to 65535, got ${typeof port === 'number' ? String(port) : describeType(port)}`,
    );
  }
}

/**
 * Checks a duration in seconds (Torsion's unit of time, as Twisted's).
 * @param what - the argument's name, for the message.
 * @param allowZero - whether 0 is a valid duration.
 * @param finite - whether `Infinity` is refused (a limit that must end, such as an idle timeout).
 * @throws RangeError unless `value` is a number >= 0 (> 0 without `allowZero`); `Infinity` passes unless `finite`.
 */
export function checkSeconds(
  value: unknown,
  what: string,
  allowZero: boolean,
  finite = false,
): asserts value is number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < 0 ||
    (!allowZero && value === 0) ||
    (finite && value === Infinity)
  ) {
    throw new RangeError(
      `${what} must be a ${finite ? 'finite ' : ''}number of seconds ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`,
    );
  }
}

/**
 * Checks a whole number within bounds (a count, a size, a port option).
 * @param what - the argument's name, for the message.
 * @throws RangeError unless `value` is an integer from `min` to `max`.
 */
export function checkInteger(
  value: unknown,
  what: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `>= ${String(min)}`
        : `from ${String(min)} to ${String(max)}`;
    throw new RangeError(`${what} must be an integer ${range}, got ${String(value)}`);
  }
}

/**
 * Checks that `factory` has the method a reactor is about to rely on, so a
 * wrong argument fails at the call rather than at the first connection.
 * @throws TypeError naming what was given.
 */
export function checkFactory(factory: unknown, needs: string): void {
  if (
    typeof factory !== 'object' ||
    factory === null ||
    typeof (factory as Record<string, unknown>)[needs] !== 'function'
  ) {
    throw new TypeError(`factory must have a ${needs}() method, got ${describeType(factory)}`);
  }
}

/**
 * Checks a write high-water mark: a whole number of bytes, zero or more. Every
 * reactor checks its `writeHighWaterMark` option with it, and every transport
 * the value its setter is given.
 * @returns `bytes`, typed.
 * @throws RangeError naming the value.
 */
export function checkWriteHighWaterMark(bytes: unknown): number {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`writeHighWaterMark must be an integer >= 0, got ${String(bytes)}`);
  }
  return bytes;
}

/**
 * Checks `setTcpKeepAlive()`'s delay.
 * @throws RangeError if `initialDelaySeconds` is negative or not finite.
 */
export function checkKeepAliveDelay(initialDelaySeconds: number): void {
  if (!(initialDelaySeconds >= 0) || initialDelaySeconds === Infinity) {
    throw new RangeError(
      `setTcpKeepAlive() needs a finite delay >= 0 seconds, got ${String(initialDelaySeconds)}`,
    );
  }
}

/**
 * Checks what `write()` was given.
 * @throws TypeError naming the type unless `data` is a Uint8Array or a string.
 */
export function checkWriteData(data: unknown): asserts data is WriteData {
  assertWriteData(data);
}

/**
 * The items of a `writeSequence()` argument, every one checked first so a
 * bad item writes nothing.
 * @throws TypeError if an item is neither a Uint8Array nor a string.
 */
export function checkWriteSequence(data: Iterable<WriteData>): WriteData[] {
  const items = Array.from(data);
  for (const item of items) {
    if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
      throw new TypeError(
        `writeSequence() items must be Uint8Array or string, not ${describeType(item)}`,
      );
    }
  }
  return items;
}

/**
 * The listen backlog when none is given: 4096, Linux's own ceiling
 * (`net.core.somaxconn`) since 5.4. Twisted's 50 and even Node's 511 are too
 * short for a burst of connections, or for a loop of clients that connect and
 * reset faster than one JavaScript thread accepts: once the accept queue is
 * full the kernel drops SYNs, and each dropped one costs its client a
 * one-second retransmit. The kernel caps the value at `net.core.somaxconn`
 * (128 on older Linux and on macOS), so asking for more than it allows is safe.
 */
export const DEFAULT_LISTEN_BACKLOG = 4096;

/**
 * The argument checks every `listenTCP` makes.
 * @returns the options with their defaults: backlog {@link DEFAULT_LISTEN_BACKLOG}, interface `''`.
 * @throws RangeError for a port outside 0..65535 or a bad backlog.
 * @throws TypeError if `factory` has no `buildProtocol` or the interface is not a string.
 */
export function checkListenTCP(
  port: number,
  factory: unknown,
  options: ListenTCPOptions = {},
): CheckedListenTCPOptions {
  checkPort(port, 0);
  checkFactory(factory, 'buildProtocol');
  const backlog = options.backlog ?? DEFAULT_LISTEN_BACKLOG;
  if (!Number.isSafeInteger(backlog) || backlog < 0) {
    throw new RangeError(`backlog must be an integer >= 0, got ${String(backlog)}`);
  }
  const iface = options.interface ?? '';
  if (typeof iface !== 'string') {
    throw new TypeError(`interface must be a string, got ${describeType(iface)}`);
  }
  return { backlog, iface };
}

/**
 * The argument checks every `connectTCP` makes.
 * @returns the options with their defaults: timeout 30 seconds.
 * @throws RangeError for a port outside 1..65535 or a bad timeout.
 * @throws TypeError if `host` is not a non-empty string or `factory` is not a client factory.
 */
export function checkConnectTCP(
  host: string,
  port: number,
  factory: unknown,
  options: ConnectTCPOptions = {},
): CheckedConnectTCPOptions {
  if (typeof host !== 'string' || host === '') {
    throw new TypeError(`host must be a non-empty string, got ${describeType(host)}`);
  }
  checkPort(port, 1);
  checkFactory(factory, 'buildProtocol');
  const timeout = options.timeout ?? 30;
  checkSeconds(timeout, 'timeout', false);
  return options.bindAddress === undefined
    ? { timeout }
    : { timeout, bindAddress: options.bindAddress };
}

// ---------------------------------------------------------------- UNIX

/** `listenUNIX` options after {@link checkListenUNIX}: every default filled in. */
export interface CheckedListenUNIXOptions {
  readonly backlog: number;
  /** Permission bits of the socket file. */
  readonly mode: number;
  readonly wantPID: boolean;
}

/** `connectUNIX` options after {@link checkConnectUNIX}: every default filled in. */
export interface CheckedConnectUNIXOptions {
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  readonly checkPID: boolean;
}

/** The longest UNIX socket path, in bytes, that Linux accepts (`sun_path` less its NUL). */
export const MAX_UNIX_PATH_BYTES = 107;

/**
 * Checks a UNIX socket path: a non-empty string of at most 107 bytes (the
 * kernel's limit), without a NUL except the first character of an
 * abstract-namespace name.
 * @throws TypeError if `path` is not a non-empty string; RangeError if it is too long or holds a NUL.
 */
export function checkUNIXPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '' || path === '\0') {
    throw new TypeError(`path must be a non-empty string, got ${describeType(path)}`);
  }
  if (path.includes('\0', 1)) {
    throw new RangeError(
      'path must not contain a NUL character except as the first one (an abstract name)',
    );
  }
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new RangeError(
      `path must be at most ${String(MAX_UNIX_PATH_BYTES)} bytes (the kernel's limit for a UNIX socket), got ${String(bytes)}`,
    );
  }
}

/**
 * The argument checks every `listenUNIX` makes.
 * @returns the options with their defaults: backlog {@link DEFAULT_LISTEN_BACKLOG}, mode 0o666, no wantPID.
 * @throws TypeError for a bad path or factory; RangeError for a bad backlog or mode.
 */
export function checkListenUNIX(
  path: string,
  factory: unknown,
  options: ListenUNIXOptions = {},
): CheckedListenUNIXOptions {
  checkUNIXPath(path);
  checkFactory(factory, 'buildProtocol');
  const backlog = options.backlog ?? DEFAULT_LISTEN_BACKLOG;
  checkInteger(backlog, 'backlog', 0);
  const mode = options.mode ?? 0o666;
  checkInteger(mode, 'mode', 0, 0o7777);
  const wantPID = options.wantPID ?? false;
  if (typeof wantPID !== 'boolean') {
    throw new TypeError(`wantPID must be a boolean, got ${describeType(wantPID)}`);
  }
  return { backlog, mode, wantPID };
}

/**
 * The argument checks every `connectUNIX` makes.
 * @returns the options with their defaults: timeout 30 seconds, no checkPID.
 * @throws TypeError for a bad path or factory; RangeError for a bad timeout.
 */
export function checkConnectUNIX(
  path: string,
  factory: unknown,
  options: ConnectUNIXOptions = {},
): CheckedConnectUNIXOptions {
  checkUNIXPath(path);
  checkFactory(factory, 'buildProtocol');
  const timeout = options.timeout ?? 30;
  checkSeconds(timeout, 'timeout', false);
  const checkPID = options.checkPID ?? false;
  if (typeof checkPID !== 'boolean') {
    throw new TypeError(`checkPID must be a boolean, got ${describeType(checkPID)}`);
  }
  return { timeout, checkPID };
}
