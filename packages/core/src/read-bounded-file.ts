/**
 * Reading a file named on a command line or in a configuration without
 * trusting what the path names: `readBoundedFile` and `readBoundedFileSync`
 * refuse anything but a regular file, and anything larger than the caller's
 * limit, so `--users /dev/zero` fails at once instead of filling memory and a
 * FIFO fails at once instead of hanging. `checkRegularFile` applies the first
 * rule to a file something else will read (a module given to `import()`).
 *
 * Tests: test/read-bounded-file.test.ts
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { errorCode } from './error-code.js';
import { FileNotRegularError, FileTooLargeError } from './errors.js';

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting
// for a writer, so the descriptor can be fstat'ed and refused. O_NOCTTY: a
// terminal named by mistake must not become the process's controlling
// terminal. Node leaves both undefined on Windows (whatever its types say),
// where FIFOs and ttys are not files.
const platform: Partial<typeof constants> = constants;
const OPEN_FLAGS = constants.O_RDONLY | (platform.O_NONBLOCK ?? 0) | (platform.O_NOCTTY ?? 0);

/** Options for {@link readBoundedFile} and {@link readBoundedFileSync}. */
export interface ReadBoundedFileOptions {
  /**
   * The largest file accepted, in bytes; a larger one fails with
   * {@link FileTooLargeError}. There is no default: what is sensible depends
   * on what the file holds, so each caller states (and documents) its own.
   */
  readonly maxBytes: number;
}

/** A file's contents and the status of the descriptor they were read from. */
export interface BoundedFile {
  /** Every byte of the file, at most `maxBytes`. */
  readonly data: Buffer;
  /**
   * `fstat` of the opened descriptor, so size, mtime and inode describe the
   * file that was read even if the path was replaced meanwhile.
   */
  readonly stats: Stats;
}

function checkMaxBytes(maxBytes: number): number {
  // MAX_LENGTH - 1: one byte past the limit is read to tell "exactly at the limit" from "over".
  if (!Number.isInteger(maxBytes) || maxBytes < 0 || maxBytes >= bufferConstants.MAX_LENGTH) {
    throw new RangeError(
      `maxBytes must be an integer from 0 to ${bufferConstants.MAX_LENGTH - 1}, got ${String(maxBytes)}`,
    );
  }
  return maxBytes;
}

/** What a non-regular file is, for the error message. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'directory';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isSocket()) return 'socket';
  return 'special file';
}

function refuseUnlessRegular(path: string, stats: Stats): void {
  if (!stats.isFile()) throw new FileNotRegularError(path, kindOf(stats));
}

/** Refuses what is not a regular file, or is already known to be over the limit, before reading. */
function refuseBeforeReading(path: string, stats: Stats, maxBytes: number): void {
  refuseUnlessRegular(path, stats);
  if (stats.size > maxBytes) throw new FileTooLargeError(path, maxBytes);
}

/**
 * `open()` of a UNIX socket fails with ENXIO rather than opening: report it
 * as the socket it is, not as a puzzling "no such device or address".
 */
function socketRefusal(path: string, err: unknown, stats: Stats | null): unknown {
  if (errorCode(err) !== 'ENXIO' || stats === null || stats.isFile()) return err;
  return new FileNotRegularError(path, kindOf(stats), { cause: err });
}

function statOrNullSync(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/**
 * The first buffer: room for the size fstat reported plus one byte, which
 * either stays empty (end of file where expected) or shows the file is larger
 * (it grew, or it is over the limit).
 */
function firstBuffer(stats: Stats, maxBytes: number): Buffer {
  return Buffer.allocUnsafe(Math.min(stats.size, maxBytes) + 1);
}

/** A buffer twice as large (never past `maxBytes + 1`), holding `buffer`'s bytes. */
function grow(buffer: Buffer, maxBytes: number): Buffer {
  const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
  buffer.copy(larger);
  return larger;
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes, synchronously.
 *
 * @remarks
 * The path is opened with `O_NONBLOCK` and the *descriptor* is checked with
 * `fstat`, so there is no window between the check and the read for the path
 * to be swapped, and a FIFO is refused without waiting for a writer. A file
 * whose size is already over the limit is refused without reading; otherwise
 * at most `maxBytes + 1` bytes are ever read, so a file that grows while it is
 * read (or, like those in `/proc`, reports a size of 0) is refused too, in
 * bounded time and memory.
 *
 * @param path - the file; symbolic links are followed.
 * @param options - `maxBytes`, the largest size accepted.
 * @returns the bytes and the descriptor's status.
 * @throws FileNotRegularError for a directory, device, FIFO or socket.
 * @throws FileTooLargeError for a file over `maxBytes`.
 * @throws RangeError for a `maxBytes` that is not a non-negative integer.
 * @throws the system error (`ENOENT`, `EACCES`, …) if the file cannot be opened or read.
 */
export function readBoundedFileSync(path: string, options: ReadBoundedFileOptions): BoundedFile {
  const maxBytes = checkMaxBytes(options.maxBytes);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw socketRefusal(path, err, errorCode(err) === 'ENXIO' ? statOrNullSync(path) : null);
  }
  try {
    const stats = fstatSync(fd);
    refuseBeforeReading(path, stats, maxBytes);
    let buffer = firstBuffer(stats, maxBytes);
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = grow(buffer, maxBytes);
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) throw new FileTooLargeError(path, maxBytes);
    }
    return { data: buffer.subarray(0, length), stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes: the asynchronous
 * form of {@link readBoundedFileSync}, with the same checks and errors.
 */
export async function readBoundedFile(
  path: string,
  options: ReadBoundedFileOptions,
): Promise<BoundedFile> {
  const maxBytes = checkMaxBytes(options.maxBytes);
  const handle = await openRefusingSockets(path);
  try {
    const stats = await handle.stat();
    refuseBeforeReading(path, stats, maxBytes);
    let buffer = firstBuffer(stats, maxBytes);
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = grow(buffer, maxBytes);
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new FileTooLargeError(path, maxBytes);
    }
    return { data: buffer.subarray(0, length), stats };
  } finally {
    await handle.close();
  }
}

/**
 * Checks that `path` names a regular file, without reading it: for a file
 * that something else reads, such as a module given to `import()`, which
 * would otherwise block forever on a FIFO or read `/dev/zero` until memory
 * runs out. The same open-then-`fstat` as {@link readBoundedFile}.
 *
 * @remarks The file is closed again before this resolves, so the reader that
 * follows opens it anew: this catches a path given by mistake, not one
 * swapped on purpose in between. Read with {@link readBoundedFile} when the
 * bytes themselves are needed.
 *
 * @returns the file's status.
 * @throws FileNotRegularError for a directory, device, FIFO or socket.
 * @throws the system error (`ENOENT`, `EACCES`, …) if the file cannot be opened.
 */
export async function checkRegularFile(path: string): Promise<Stats> {
  const handle = await openRefusingSockets(path);
  try {
    const stats = await handle.stat();
    refuseUnlessRegular(path, stats);
    return stats;
  } finally {
    await handle.close();
  }
}

async function openRefusingSockets(path: string): Promise<FileHandle> {
  try {
    return await open(path, OPEN_FLAGS);
  } catch (err) {
    throw socketRefusal(path, err, errorCode(err) === 'ENXIO' ? await statOrNull(path) : null);
  }
}
