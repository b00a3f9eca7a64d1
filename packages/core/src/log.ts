/**
 * Torsion's structured logger. The library writes nothing to stdout or stderr
 * except through this module: every event goes to the registered observers.
 * By default one observer prints readable lines on stderr; applications swap
 * in {@link jsonFileObserver}, their own observer, or none.
 *
 * The observer list is stored on `globalThis` so that every copy of
 * `@torsion/core` loaded in a process (a protocol package with its own copy,
 * a test importing sources) logs to the same place.
 *
 * Tests: test/log.test.ts
 * @module
 */
import { inspect } from 'node:util';
import { Failure } from './failure.js';

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, critical: 4 };

/** One log event, as observers receive it. */
export interface LogEvent {
  /** Seconds since the epoch (wall clock: this is for humans, not for timers). */
  readonly time: number;
  readonly level: LogLevel;
  /** Dotted origin, e.g. `torsion.tcp` or the name an application picked. */
  readonly namespace: string;
  readonly message: string;
  /** Structured context. A `failure` field carries an error with its traceback. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Receives every log event. Must not throw; if it does, the error is reported on stderr once. */
export type LogObserver = (event: LogEvent) => void;

interface Publisher {
  observers: LogObserver[];
  brokenObservers: WeakSet<LogObserver>;
}

const PUBLISHER_KEY = Symbol.for('@torsion/core/log-publisher');

function publisher(): Publisher {
  const holder = globalThis as unknown as Record<symbol, Publisher | undefined>;
  let found = holder[PUBLISHER_KEY];
  if (found === undefined) {
    found = { observers: [textFileObserver(process.stderr)], brokenObservers: new WeakSet() };
    holder[PUBLISHER_KEY] = found;
  }
  return found;
}

/** Replaces every observer (an empty list silences the library). */
export function setLogObservers(observers: readonly LogObserver[]): void {
  publisher().observers = [...observers];
}

/** Adds an observer; returns a function that removes it again. */
export function addLogObserver(observer: LogObserver): () => void {
  const pub = publisher();
  pub.observers = [...pub.observers, observer];
  return () => {
    pub.observers = pub.observers.filter((o) => o !== observer);
  };
}

/** Delivers an event to every observer. An observer that throws cannot stop the others. */
export function publishLogEvent(event: LogEvent): void {
  const pub = publisher();
  for (const observer of pub.observers) {
    try {
      observer(event);
    } catch (err) {
      if (!pub.brokenObservers.has(observer)) {
        pub.brokenObservers.add(observer);
        process.stderr.write(`torsion: a log observer threw and was skipped: ${String(err)}\n`);
      }
    }
  }
}

/** Anything with a `write(string)` method: `process.stderr`, a file stream. */
export interface TextSink {
  write(text: string): unknown;
}

// What a terminal acts on, or what reorders or hides the text after it: C0
// controls but TAB and LF, DEL, C1 controls (NEL, CSI…), bidi embeddings,
// overrides and isolates, and U+2028/U+2029. Logged text often carries what a
// peer sent (an error message quoting the bytes it choked on), and reading a
// log must not let that peer drive the reader's terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Writes each character a terminal would act on as a visible `\uXXXX`
 * escape, never dropping it, so the line shows that something was there.
 * Inside a JSON string the escape means the same character, so JSON stays valid.
 */
function escapeUnsafe(text: string): string {
  return text.replace(
    TERMINAL_UNSAFE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Renders one event as a readable line (plus the traceback of a `failure`
 * field). Control characters (other than the traceback's line breaks and
 * TAB) and bidi controls are written as `\uXXXX`, from whatever part of the
 * event they come.
 */
export function formatLogEvent(event: LogEvent): string {
  const when = new Date(event.time * 1000).toISOString();
  const { failure, ...rest } = event.fields;
  const extras = Object.entries(rest)
    .map(([key, value]) => `${key}=${formatFieldValue(value)}`)
    .join(' ');
  let line = `${when} [${event.namespace}] ${event.level}: ${event.message}`;
  if (extras !== '') line += ` ${extras}`;
  if (failure instanceof Failure) line += `\n${indent(failure.getTraceback())}`;
  return escapeUnsafe(line);
}

function formatFieldValue(value: unknown): string {
  if (typeof value === 'string') {
    // Quoted when it holds a blank or a character escapeUnsafe() rewrites, so
    // `key=value` stays one readable token.
    return /\s/.test(value) || value.search(TERMINAL_UNSAFE) >= 0 ? JSON.stringify(value) : value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  try {
    // JSON.stringify returns undefined for undefined, functions and symbols.
    const json = JSON.stringify(value) as string | undefined;
    if (json !== undefined) return json;
  } catch {
    // A cycle: fall through to inspect(), which marks it.
  }
  return inspect(value, { breakLength: Infinity });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/** Readable lines on a text sink (the default observer writes to stderr). */
export function textFileObserver(sink: TextSink, minimumLevel: LogLevel = 'info'): LogObserver {
  return (event) => {
    if (LEVEL_ORDER[event.level] < LEVEL_ORDER[minimumLevel]) return;
    sink.write(`${formatLogEvent(event)}\n`);
  };
}

/**
 * One JSON object per line; a `failure` field becomes `{ type, message, traceback }`.
 * DEL, C1 and bidi controls in strings are written as `\uXXXX`, which JSON
 * reads back as the same characters.
 */
export function jsonFileObserver(sink: TextSink, minimumLevel: LogLevel = 'debug'): LogObserver {
  return (event) => {
    if (LEVEL_ORDER[event.level] < LEVEL_ORDER[minimumLevel]) return;
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event.fields)) {
      fields[key] =
        value instanceof Failure
          ? {
              type: value.value.name,
              message: value.getErrorMessage(),
              traceback: value.getTraceback(),
            }
          : value;
    }
    // JSON.stringify escapes C0 controls but not DEL, C1 or bidi controls.
    sink.write(`${escapeUnsafe(safeStringify({ ...event, fields }))}\n`);
  };
}

function safeStringify(value: unknown): string {
  const seen = new WeakSet();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[Circular]';
      seen.add(v);
    }
    return v;
  });
}

/** Emits events under one namespace. */
export class Logger {
  constructor(readonly namespace: string) {}

  emit(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    publishLogEvent({ time: Date.now() / 1000, level, namespace: this.namespace, message, fields });
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.emit('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.emit('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.emit('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.emit('error', message, fields);
  }

  critical(message: string, fields?: Record<string, unknown>): void {
    this.emit('critical', message, fields);
  }

  /** Logs an error (wrapped as a `Failure` under `fields.failure`) with its traceback, at `error` level. */
  failure(
    message: string,
    error: unknown,
    fields: Record<string, unknown> = {},
    level: LogLevel = 'error',
  ): void {
    this.emit(level, message, { ...fields, failure: new Failure(error) });
  }
}
