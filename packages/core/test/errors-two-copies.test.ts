// Two copies of @torsion/core in one application (say, a package that pinned
// another version): `instanceof` and `Failure.check` still recognise each
// copy's errors and Failures, through the `Symbol.for` brands. The second copy is the built
// dist/, copied to a temporary folder and imported by file URL.
import { expect } from 'chai';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as errors from '../src/errors.js';
import { Failure } from '../src/failure.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Errors = typeof errors;
interface Core extends Errors {
  Failure: typeof Failure;
}

describe('errors across two copies of @torsion/core', () => {
  let copyDir = '';
  let other: Core;

  before(async function () {
    if (!existsSync(join(packageDir, 'dist', 'index.js'))) {
      process.stderr.write('\n  SKIPPED: packages/core/dist is missing: run `npx tsc -b`\n');
      this.skip();
    }
    copyDir = mkdtempSync(join(tmpdir(), 'torsion-core-copy-'));
    cpSync(join(packageDir, 'dist'), join(copyDir, 'dist'), { recursive: true });
    cpSync(join(packageDir, 'package.json'), join(copyDir, 'package.json'));
    other = (await import(pathToFileURL(join(copyDir, 'dist', 'index.js')).href)) as Core;
  });

  after(() => {
    if (copyDir !== '') rmSync(copyDir, { recursive: true, force: true });
  });

  it('loads a distinct copy (its classes are not ours)', () => {
    expect(other.ConnectionDone).not.to.equal(errors.ConnectionDone);
    expect(Object.getPrototypeOf(new other.ConnectionDone())).not.to.equal(
      errors.ConnectionDone.prototype,
    );
  });

  it("recognises the other copy's errors with instanceof, up the class chain", () => {
    const aborted = new other.ConnectionAborted();
    expect(aborted instanceof errors.ConnectionAborted).to.equal(true);
    expect(aborted instanceof errors.ConnectionLost).to.equal(true);
    expect(aborted instanceof errors.ConnectionClosed).to.equal(true);
    expect(aborted instanceof errors.TorsionError).to.equal(true);
    expect(aborted instanceof errors.ConnectionDone).to.equal(false);
    expect(aborted instanceof errors.ConnectError).to.equal(false);
  });

  it("is recognised by the other copy's classes the same way", () => {
    const done = new errors.ConnectionDone();
    expect(done instanceof other.ConnectionDone).to.equal(true);
    expect(done instanceof other.ConnectionClosed).to.equal(true);
    expect(done instanceof other.ConnectionLost).to.equal(false);
    const refused = new errors.ConnectionRefusedError();
    expect(refused instanceof other.ConnectError).to.equal(true);
    expect(refused instanceof other.TimeoutError).to.equal(false);
  });

  it('lets Failure.check and trap of either copy match errors of the other', () => {
    const reason = new Failure(new other.ConnectionDone());
    expect(reason.check(errors.ConnectionLost, errors.ConnectionDone)).to.equal(
      errors.ConnectionDone,
    );
    expect(reason.trap(errors.ConnectionClosed)).to.equal(errors.ConnectionClosed);
    const theirs = new other.Failure(new errors.TimeoutError());
    expect(theirs.check(other.UserError)).to.equal(other.UserError);
    expect(theirs.check(other.ConnectionDone)).to.equal(null);
  });

  it("recognises the other copy's Failure and unwraps it instead of wrapping it again", () => {
    const theirs = new other.Failure(new other.ConnectionLost('gone'));
    expect(theirs instanceof Failure).to.equal(true);
    const ours = new Failure(theirs);
    expect(ours.value).to.equal(theirs.value);
    expect(ours.check(errors.ConnectionLost)).to.equal(errors.ConnectionLost);
    expect(ours.getErrorMessage()).to.equal('gone');
    // And the other way round.
    const back = new other.Failure(new Failure(new errors.CancelledError()));
    expect(back.value).to.be.instanceOf(errors.CancelledError);
    expect(back.check(other.CancelledError)).to.equal(other.CancelledError);
  });

  it('does not take a look-alike object, or an error, for a Failure', () => {
    expect({ value: new Error('x') } instanceof Failure).to.equal(false);
    expect(new Error('x') instanceof Failure).to.equal(false);
    expect((undefined as unknown) instanceof Failure).to.equal(false);
    const failure = new Failure(new Error('x'));
    expect(Object.keys(failure)).to.deep.equal(['value']);
  });

  it('still rejects plain errors and non-errors', () => {
    expect(new Error('x') instanceof errors.TorsionError).to.equal(false);
    expect({ code: 'TORSION_ERR_CONNECTION_DONE' } instanceof errors.ConnectionDone).to.equal(
      false,
    );
    expect((null as unknown) instanceof errors.TorsionError).to.equal(false);
  });

  it('brands without showing: the brands are not enumerable', () => {
    const done = new errors.ConnectionDone();
    expect(Object.keys(done)).not.to.include.members([
      String(Symbol.for('torsion.error.ConnectionDone')),
    ]);
    expect(
      Object.getOwnPropertySymbols(done).every(
        (s) => !Object.prototype.propertyIsEnumerable.call(done, s),
      ),
    ).to.equal(true);
    expect(JSON.stringify(done)).to.equal(
      JSON.stringify({ code: done.code, name: 'ConnectionDone' }),
    );
  });
});
