// readBoundedFile, readBoundedFileSync and checkRegularFile against real
// files, directories, devices, FIFOs and sockets in a temporary folder
// (issue #9: `--users /dev/zero` grew forever, a FIFO hung the runner).
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileNotRegularError, FileRefusedError, FileTooLargeError } from '../src/errors.js';
import {
  checkRegularFile,
  readBoundedFile,
  readBoundedFileSync,
  type BoundedFile,
  type ReadBoundedFileOptions,
} from '../src/read-bounded-file.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const moduleUrl = pathToFileURL(join(here, '../src/read-bounded-file.ts')).href;

/** Fails instead of waiting forever if `promise` takes longer than `seconds`. */
async function within<T>(seconds: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`still running after ${seconds} s`));
    }, seconds * 1000);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `promise` rejects with (fails the test if it fulfils). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await within(5, promise);
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

// Both forms run the same table, so they cannot drift apart.
const forms: [string, (path: string, options: ReadBoundedFileOptions) => Promise<BoundedFile>][] = [
  ['readBoundedFile', (path, options) => within(5, readBoundedFile(path, options))],
  // .then(): a synchronous throw becomes a rejection, as in the async form.
  [
    'readBoundedFileSync',
    (path, options) => Promise.resolve().then(() => readBoundedFileSync(path, options)),
  ],
];

describe('reading a bounded file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-read-bounded-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, read] of forms) {
    describe(name, () => {
      it('reads a regular file whole, with the status of the descriptor it read', async () => {
        const file = join(dir, 'a.json');
        writeFileSync(file, '{ "alice": "hi" }');
        const { data, stats } = await read(file, { maxBytes: 1024 });
        expect(data.toString('utf8')).to.equal('{ "alice": "hi" }');
        expect(stats.isFile()).to.equal(true);
        expect(stats.size).to.equal(data.length);
      });

      it('reads an empty file, and a file of exactly maxBytes', async () => {
        const empty = join(dir, 'empty');
        writeFileSync(empty, '');
        expect((await read(empty, { maxBytes: 0 })).data.length).to.equal(0);
        const full = join(dir, 'full');
        writeFileSync(full, 'x'.repeat(100));
        expect((await read(full, { maxBytes: 100 })).data.length).to.equal(100);
      });

      it('refuses a file one byte over maxBytes with FileTooLargeError', async () => {
        const file = join(dir, 'big');
        writeFileSync(file, 'x'.repeat(101));
        const err = await rejection(read(file, { maxBytes: 100 }));
        expect(err).to.be.instanceOf(FileTooLargeError);
        expect(err).to.be.instanceOf(FileRefusedError);
        expect(err).to.include({ code: 'TORSION_ERR_FILE_TOO_LARGE', path: file, maxBytes: 100 });
        expect((err as Error).message)
          .to.include(file)
          .and.include('100 bytes');
      });

      it('refuses a 1 GiB file at once, without reading it', async () => {
        const file = join(dir, 'huge');
        writeFileSync(file, '');
        truncateSync(file, 2 ** 30); // sparse: costs no disk
        const started = performance.now();
        const err = await rejection(read(file, { maxBytes: 16 * 2 ** 20 }));
        expect(err).to.be.instanceOf(FileTooLargeError);
        expect(performance.now() - started).to.be.below(1000);
      });

      it('reads no more than maxBytes + 1 of a file whose size says 0 (/proc)', async function () {
        // A /proc file is regular but reports size 0, as a file growing
        // after fstat does: the limit must hold while reading, too.
        if (!existsSync('/proc/self/status')) this.skip();
        const whole = await read('/proc/self/status', { maxBytes: 1 << 20 });
        expect(whole.stats.size).to.equal(0);
        expect(whole.data.toString('utf8')).to.match(/^Name:/);
        const err = await rejection(read('/proc/self/status', { maxBytes: 10 }));
        expect(err).to.be.instanceOf(FileTooLargeError);
      });

      it('refuses a directory with FileNotRegularError', async () => {
        const err = await rejection(read(dir, { maxBytes: 1024 }));
        expect(err).to.be.instanceOf(FileNotRegularError);
        expect(err).to.include({ code: 'TORSION_ERR_FILE_NOT_REGULAR', kind: 'directory' });
        expect((err as Error).message).to.equal(`${dir} is a directory, not a regular file`);
      });

      it('refuses /dev/zero, and a link to it, before reading a byte', async function () {
        if (!existsSync('/dev/zero')) this.skip();
        const link = join(dir, 'users.json');
        symlinkSync('/dev/zero', link);
        for (const path of ['/dev/zero', link]) {
          const err = await rejection(read(path, { maxBytes: 1 << 20 }));
          expect(err).to.be.instanceOf(FileNotRegularError);
          expect(err).to.include({ kind: 'character device', path });
        }
      });

      it('refuses a UNIX socket', async function () {
        if (process.platform === 'win32') this.skip();
        const socketPath = join(dir, 'sock');
        const server = createServer().listen(socketPath);
        await once(server, 'listening');
        try {
          const err = await rejection(read(socketPath, { maxBytes: 1024 }));
          expect(err).to.be.instanceOf(FileNotRegularError);
          expect(err).to.include({ kind: 'socket' });
        } finally {
          server.close();
        }
      });

      it('passes on the system error for a missing file', async () => {
        const err = await rejection(read(join(dir, 'nope'), { maxBytes: 1024 }));
        expect(err).to.not.be.instanceOf(FileRefusedError);
        expect(err).to.include({ code: 'ENOENT' });
      });

      for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
        it(`throws RangeError for maxBytes ${String(bad)}`, async () => {
          const file = join(dir, 'a');
          writeFileSync(file, 'a');
          expect(await rejection(read(file, { maxBytes: bad }))).to.be.instanceOf(RangeError);
        });
      }
    });
  }

  describe('a FIFO', () => {
    let fifo: string;
    beforeEach(function () {
      if (process.platform === 'win32') this.skip();
      fifo = join(dir, 'users.json');
      execFileSync('mkfifo', [fifo]);
    });

    it('readBoundedFile refuses it at once, with no writer on the other end', async () => {
      const started = performance.now();
      const err = await rejection(readBoundedFile(fifo, { maxBytes: 1024 }));
      expect(err).to.be.instanceOf(FileNotRegularError);
      expect(err).to.include({ kind: 'FIFO (named pipe)', path: fifo });
      expect(performance.now() - started).to.be.below(1000);
    });

    it('readBoundedFileSync refuses it at once (in a child process, which a hang cannot stall)', () => {
      // A synchronous open that blocked would stall this test process for
      // good, past any mocha timeout: run it where a timeout can kill it.
      const script = `
        import { readBoundedFileSync } from ${JSON.stringify(moduleUrl)};
        try {
          readBoundedFileSync(${JSON.stringify(fifo)}, { maxBytes: 1024 });
          console.log('read');
        } catch (err) {
          console.log(err.code);
        }`;
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: repoRoot, encoding: 'utf8', timeout: 8000 },
      );
      expect(child.signal, 'the child was killed: it hung').to.equal(null);
      expect(child.stdout.trim()).to.equal('TORSION_ERR_FILE_NOT_REGULAR');
    });

    it('checkRegularFile refuses it at once', async () => {
      const err = await rejection(checkRegularFile(fifo));
      expect(err).to.be.instanceOf(FileNotRegularError);
    });
  });

  describe('checkRegularFile', () => {
    it('gives the status of a regular file without reading it', async () => {
      const file = join(dir, 'plugin.mjs');
      writeFileSync(file, 'export default {};');
      const stats = await checkRegularFile(file);
      expect(stats.isFile()).to.equal(true);
      expect(stats.size).to.equal(18);
    });

    it('refuses a directory and /dev/zero', async () => {
      mkdirSync(join(dir, 'sub'));
      expect(await rejection(checkRegularFile(join(dir, 'sub')))).to.include({
        kind: 'directory',
      });
      if (existsSync('/dev/zero')) {
        expect(await rejection(checkRegularFile('/dev/zero'))).to.include({
          kind: 'character device',
        });
      }
    });
  });

  describe('the errors', () => {
    it('share FileRefusedError, and keep their path, kind and limit', () => {
      const notRegular = new FileNotRegularError('/dev/zero', 'character device');
      expect(notRegular).to.be.instanceOf(FileRefusedError);
      expect(notRegular.message).to.equal('/dev/zero is a character device, not a regular file');
      const tooLarge = new FileTooLargeError('/x', 16);
      expect(tooLarge).to.be.instanceOf(FileRefusedError);
      expect(tooLarge.message).to.equal('/x is larger than the limit of 16 bytes');
      expect(thrown(() => readBoundedFileSync('/x', { maxBytes: -1 }))).to.be.instanceOf(
        RangeError,
      );
    });
  });
});
