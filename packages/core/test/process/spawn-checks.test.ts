import { expect } from 'chai';
import { constants } from 'node:os';
import { checkSignal, checkSpawnProcess, stdioFor } from '../../src/process/spawn-checks.js';
import { ProcessProtocol } from '../../src/process/process-protocol.js';

const proto = new ProcessProtocol();

describe('checkSpawnProcess', () => {
  it("fills in Twisted's childFDs, the inherited environment and argv0", () => {
    const settings = checkSpawnProcess(proto, 'cat', undefined, undefined);
    expect([...settings.childFDs]).to.deep.equal([
      [0, 'w'],
      [1, 'r'],
      [2, 'r'],
    ]);
    expect(settings.env).to.equal(null);
    expect(settings.args).to.deep.equal([]);
    expect(settings.argv0).to.equal('cat');
    expect(settings.cwd).to.equal(undefined);
  });

  it("env: 'empty' is {}, an object is copied without its undefined values", () => {
    expect(checkSpawnProcess(proto, 'x', [], { env: 'empty' }).env).to.deep.equal({});
    expect(checkSpawnProcess(proto, 'x', [], { env: 'inherit' }).env).to.equal(null);
    expect(checkSpawnProcess(proto, 'x', [], { env: { A: '1', B: undefined } }).env).to.deep.equal({
      A: '1',
    });
  });

  it('sorts childFDs and keeps inherited descriptors as numbers', () => {
    const settings = checkSpawnProcess(proto, 'x', [], { childFDs: { 3: 'r', 0: 'w', 1: 1 } });
    expect([...settings.childFDs]).to.deep.equal([
      [0, 'w'],
      [1, 1],
      [3, 'r'],
    ]);
  });

  it('refuses bad arguments with an error naming the field', () => {
    const bad: [unknown[], RegExp][] = [
      [[null, 'x'], /processProtocol/],
      [[proto, 5], /executable must be a string/],
      [[proto, ''], /executable must not be empty/],
      [[proto, 'a\0b'], /executable must not contain a NUL/],
      [[proto, 'x', 'args'], /args must be an array/],
      [[proto, 'x', [1]], /args\[0\]/],
      [[proto, 'x', [], { env: 'all' }], /options\.env/],
      [[proto, 'x', [], { env: { A: 1 } }], /options\.env\.A/],
      [[proto, 'x', [], { env: { 'A=B': '1' } }], /variable name/],
      [[proto, 'x', [], { path: 3 }], /options\.path/],
      [[proto, 'x', [], { childFDs: [] }], /options\.childFDs/],
      [[proto, 'x', [], { childFDs: { x: 'r' } }], /childFDs keys/],
      [[proto, 'x', [], { childFDs: { 0: 'rw' } }], /childFDs\[0\]/],
      [[proto, 'x', [], { uid: -1 }], /options\.uid/],
      [[proto, 'x', [], { gid: 1.5 }], /options\.gid/],
      [[proto, 'x', [], { cwd: '/' }], /options\.cwd is not a spawnProcess option/],
      [[proto, 'x', [], 'opts'], /options must be an object/],
    ];
    for (const [args, message] of bad) {
      expect(() => checkSpawnProcess(args[0], args[1], args[2], args[3])).to.throw(message);
    }
  });
});

describe('checkSignal', () => {
  it("takes Twisted's names, SIG-prefixed names and numbers", () => {
    expect(checkSignal('TERM', constants.signals)).to.equal('SIGTERM');
    expect(checkSignal('SIGKILL', constants.signals)).to.equal('SIGKILL');
    expect(checkSignal(9, constants.signals)).to.equal(9);
  });

  it('refuses unknown names and numbers out of range', () => {
    expect(() => checkSignal('BOGUS' as 'TERM', constants.signals)).to.throw(RangeError, /BOGUS/);
    expect(() => checkSignal(-1, constants.signals)).to.throw(RangeError);
    expect(() => checkSignal({} as unknown as number, constants.signals)).to.throw(TypeError);
  });
});

describe('stdioFor', () => {
  it("is Node's stdio array: a pipe per 'r'/'w', the number of an inherited descriptor, 'ignore' for the gaps", () => {
    const { childFDs } = checkSpawnProcess(proto, 'x', [], {
      childFDs: { 0: 'w', 2: 7, 5: 'r' },
    });
    expect(stdioFor(childFDs)).to.deep.equal(['pipe', 'ignore', 7, 'ignore', 'ignore', 'pipe']);
  });

  it('always lists 0 to 2, ignored when childFDs leaves them out', () => {
    expect(stdioFor(new Map())).to.deep.equal(['ignore', 'ignore', 'ignore']);
    expect(stdioFor(checkSpawnProcess(proto, 'x', [], undefined).childFDs)).to.deep.equal([
      'pipe',
      'pipe',
      'pipe',
    ]);
  });
});
