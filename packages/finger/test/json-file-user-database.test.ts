// JsonFileUserDatabase against real files in a temporary folder.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileNotRegularError, FileTooLargeError } from '@torsion/core';
import { LogCapture } from '@torsion/core/testing';
import {
  DEFAULT_MAX_USERS_FILE_BYTES,
  JsonFileUserDatabase,
} from '../src/json-file-user-database.js';
import { inChild, sourceUrl } from './support/in-child.js';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an exception');
}

describe('JsonFileUserDatabase', () => {
  let dir: string;
  let file: string;
  let capture: LogCapture;
  // Each rewrite gets a distinct mtime, so the test does not depend on the
  // file system's timestamp resolution.
  let tick = 1_000_000;
  const write = (content: string, path = file): void => {
    writeFileSync(path, content);
    tick += 10;
    utimesSync(path, tick, tick);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-finger-'));
    file = join(dir, 'users.json');
    capture = LogCapture.start();
  });
  afterEach(() => {
    capture.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the file', async () => {
    write('{ "alice": "Hello\\nthere", "bob": "Builder" }');
    const users = new JsonFileUserDatabase(file);
    expect(await users.getUser('alice')).to.equal('Hello\nthere');
    expect(await users.getUser('carol')).to.equal(null);
    expect(await users.listUsers()).to.deep.equal(['alice', 'bob']);
  });

  it('re-reads the file when it changes', async () => {
    write('{ "alice": "one" }');
    const users = new JsonFileUserDatabase(file);
    expect(await users.getUser('alice')).to.equal('one');
    write('{ "alice": "two", "bob": "new" }');
    expect(await users.getUser('alice')).to.equal('two');
    expect(await users.listUsers()).to.deep.equal(['alice', 'bob']);
  });

  it('sees a file replaced by rename, as editors save', async () => {
    write('{ "alice": "one" }');
    const users = new JsonFileUserDatabase(file);
    write('{ "alice": "renamed" }', join(dir, 'tmp.json'));
    renameSync(join(dir, 'tmp.json'), file);
    expect(await users.getUser('alice')).to.equal('renamed');
  });

  it('keeps the last good users and logs once when the file turns bad', async () => {
    write('{ "alice": "good" }');
    const users = new JsonFileUserDatabase(file);
    write('{ "alice": ');
    expect(await users.getUser('alice')).to.equal('good');
    expect(await users.getUser('alice')).to.equal('good');
    expect(capture.failures()).to.have.length(1);
    expect(capture.events[0]?.level).to.equal('error');
    write('{ "alice": "fixed" }');
    expect(await users.getUser('alice')).to.equal('fixed');
  });

  it('keeps the last good users when the file disappears', async () => {
    write('{ "alice": "good" }');
    const users = new JsonFileUserDatabase(file);
    rmSync(file);
    expect(await users.getUser('alice')).to.equal('good');
    expect(capture.failures()).to.have.length(1);
  });

  it('refuses a non-string info as invalid', async () => {
    write('{ "alice": "good" }');
    const users = new JsonFileUserDatabase(file);
    write('{ "alice": 42 }');
    expect(await users.getUser('alice')).to.equal('good');
    expect(capture.failures()[0]?.getErrorMessage()).to.match(/"alice" is not a string/);
  });

  it('shares one reload between concurrent queries', async () => {
    write('{ "alice": "one" }');
    const users = new JsonFileUserDatabase(file);
    write('{ "alice": "two" }');
    const answers = await Promise.all([users.getUser('alice'), users.getUser('alice')]);
    expect(answers).to.deep.equal(['two', 'two']);
    expect(capture.events.filter((e) => e.message.startsWith('Reloaded'))).to.have.length(1);
  });

  it('throws a clear error at start for a missing file', () => {
    expect(() => new JsonFileUserDatabase(join(dir, 'nope.json'))).to.throw(
      /Cannot read the finger users file .*nope\.json/,
    );
  });

  // Issue #9: `--users /dev/zero` read until memory ran out, and a FIFO hung.
  // The constructor reads synchronously, so a regression would block this
  // process for good: each case runs in a child with a time limit.
  const construct = (path: string): string =>
    inChild(`
      import { JsonFileUserDatabase } from ${JSON.stringify(sourceUrl('json-file-user-database.ts'))};
      try {
        new JsonFileUserDatabase(${JSON.stringify(path)});
        console.log('read');
      } catch (err) {
        console.log(JSON.stringify([err.message, err.cause?.code]));
      }`);

  it('refuses /dev/zero at start, naming the file and what it is', function () {
    if (!existsSync('/dev/zero')) this.skip();
    expect(JSON.parse(construct('/dev/zero'))).to.deep.equal([
      'Cannot read the finger users file /dev/zero: /dev/zero is a character device, not a regular file',
      'TORSION_ERR_FILE_NOT_REGULAR',
    ]);
  });

  it('refuses a FIFO at start without waiting for a writer', function () {
    if (process.platform === 'win32') this.skip();
    execFileSync('mkfifo', [file]);
    expect(JSON.parse(construct(file))).to.deep.equal([
      `Cannot read the finger users file ${file}: ${file} is a FIFO (named pipe), not a regular file`,
      'TORSION_ERR_FILE_NOT_REGULAR',
    ]);
  });

  it('refuses a directory at start', () => {
    expect(thrown(() => new JsonFileUserDatabase(dir)).message).to.match(/is a directory/);
  });

  it('refuses a file over maxBytes at start, and reads one at the limit', () => {
    write('{ "alice": "hi" }'); // 17 bytes
    expect(new JsonFileUserDatabase(file, { maxBytes: 17 }).maxBytes).to.equal(17);
    const err = thrown(() => new JsonFileUserDatabase(file, { maxBytes: 16 }));
    expect(err.message).to.match(/users\.json is larger than the limit of 16 bytes$/);
    expect(err.cause).to.be.instanceOf(FileTooLargeError);
  });

  it('caps the file at 16 MiB by default', () => {
    write('{}');
    expect(DEFAULT_MAX_USERS_FILE_BYTES).to.equal(16 * 1024 * 1024);
    expect(new JsonFileUserDatabase(file).maxBytes).to.equal(DEFAULT_MAX_USERS_FILE_BYTES);
  });

  for (const bad of [-1, 1.5, Number.NaN]) {
    it(`throws RangeError for maxBytes ${String(bad)}`, () => {
      write('{}');
      expect(() => new JsonFileUserDatabase(file, { maxBytes: bad })).to.throw(RangeError);
    });
  }

  it('keeps the last good users when the file is replaced by a FIFO, /dev/zero or a larger file', async function () {
    if (process.platform === 'win32' || !existsSync('/dev/zero')) this.skip();
    write('{ "alice": "good" }');
    const users = new JsonFileUserDatabase(file, { maxBytes: 64 });
    rmSync(file);
    execFileSync('mkfifo', [file]);
    expect(await users.getUser('alice')).to.equal('good');
    rmSync(file);
    symlinkSync('/dev/zero', file);
    expect(await users.getUser('alice')).to.equal('good');
    rmSync(file);
    write(JSON.stringify({ alice: 'x'.repeat(64) }));
    expect(await users.getUser('alice')).to.equal('good');
    const reasons = capture.failures().map((failure) => failure.value);
    expect(reasons.map((reason) => reason.constructor)).to.deep.equal([
      FileNotRegularError,
      FileNotRegularError,
      FileTooLargeError,
    ]);
    expect(capture.events[0]?.message).to.match(/cannot be read; keeping the last good users/);
    write('{ "alice": "fixed" }');
    expect(await users.getUser('alice')).to.equal('fixed');
  });

  for (const [content, why] of [
    ['not json', /not valid/],
    ['[]', /expected a JSON object/],
    ['null', /expected a JSON object/],
  ] as const) {
    it(`throws a clear error at start for ${content}`, () => {
      write(content);
      expect(() => new JsonFileUserDatabase(file)).to.throw(why);
    });
  }
});
