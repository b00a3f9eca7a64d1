/**
 * The access log (`--access-log FILE|-`): one line per connection when it
 * ends — plugin, endpoint, local and peer address (the PROXY header's behind
 * `haproxy:`), duration, bytes in and out, how it ended. The line is a core
 * log event under the namespace `torsion.access`, written with the same
 * observer the runner's log uses: JSON under `--log-format json`, text
 * otherwise. It goes to its own sink, not through the log observers, so the
 * log level does not filter it and the log stays free of it.
 *
 * Tests: test/served/access-log.test.ts, test/served/served.integration.test.ts
 * @module
 */
import { jsonFileObserver, textFileObserver, type LogObserver, type TextSink } from '@torsion/core';
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

import type { ConnectionRecord } from './tracking-factory.js';

/** A file the access log could not open; the message names the option and the file. */
export class AccessLogError extends Error {}

/** A sink appending to a file with one `write(2)` per line, so lines from several workers never interleave. */
class AppendFileSink implements TextSink {
  #fd: number | null;

  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'a');
    } catch (err) {
      throw new AccessLogError(
        `--access-log: cannot open ${path}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  write(text: string): boolean {
    if (this.#fd !== null) writeSync(this.#fd, text);
    return true;
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** Writes one line per ended connection. */
export class AccessLog {
  readonly #observer: LogObserver;
  readonly #file: AppendFileSink | null;

  /**
   * @param target - `-` for `stdout`, else a file name (resolved from `cwd`) opened for appending.
   * @throws AccessLogError when the file cannot be opened.
   */
  constructor(target: string, format: 'text' | 'json', stdout: TextSink, cwd: string) {
    this.#file = target === '-' ? null : new AppendFileSink(resolve(cwd, target));
    const sink = this.#file ?? stdout;
    this.#observer =
      format === 'json' ? jsonFileObserver(sink, 'debug') : textFileObserver(sink, 'debug');
  }

  /** Writes the line for `record`. */
  write(record: ConnectionRecord): void {
    const peer = record.peer === null ? '?' : record.peer.toString();
    const fields: Record<string, unknown> = {
      plugin: record.plugin,
      endpoint: record.endpoint,
      local: record.local === null ? null : record.local.toString(),
      peer: record.peer === null ? null : peer,
      duration: Math.round(record.duration * 1e6) / 1e6,
      bytesIn: record.bytesIn,
      bytesOut: record.bytesOut,
      ending: record.ending,
    };
    if (record.error !== undefined) fields.error = record.error;
    if (record.policy !== undefined) fields.policy = record.policy;
    if (record.reason !== undefined) fields.reason = record.reason;
    this.#observer({
      time: Date.now() / 1000,
      level: 'info',
      namespace: 'torsion.access',
      message: `${record.plugin} ${peer} ${record.ending}`,
      fields,
    });
  }

  /** Closes the file, if any. */
  close(): void {
    this.#file?.close();
  }
}
