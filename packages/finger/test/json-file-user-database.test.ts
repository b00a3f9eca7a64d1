// JsonFileUserDatabase against real files in a temporary folder.
import { expect } from 'chai';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogCapture } from '@torsion/core/testing';
import { JsonFileUserDatabase } from '../src/json-file-user-database.js';

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
