// The `finger` service for the torsion runner.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPv4Address, Logger } from '@torsion/core';
import { MemoryReactorClock, StringTransport } from '@torsion/core/testing';
import fingerService from '../src/plugin.js';
import { FingerFactory } from '../src/finger-server.js';
import { JsonFileUserDatabase } from '../src/json-file-user-database.js';
import { inChild, sourceUrl } from './support/in-child.js';

function asFinger(factory: unknown): FingerFactory {
  if (!(factory instanceof FingerFactory)) throw new Error('not a FingerFactory');
  return factory;
}

describe('finger plugin', () => {
  let dir: string;
  const reactor = new MemoryReactorClock();
  const context = { reactor, log: new Logger('torsion.finger') };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-finger-plugin-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes itself for the runner', () => {
    expect(fingerService.name).to.equal('finger');
    expect(fingerService.defaultListen).to.deep.equal(['tcp:7979']);
    expect(Object.keys(fingerService.options)).to.deep.equal([
      'users',
      'allow-list',
      'forwarding',
      'idle-timeout',
    ]);
    expect(fingerService.options.users?.valueName).to.equal('FILE');
  });

  it('defaults to no users, no listing, no forwarding and a 60 second idle timeout', async () => {
    const f = asFinger(await fingerService.makeFactory({}, context));
    expect([f.allowList, f.forwarding, f.idleTimeout]).to.deep.equal([false, false, 60]);
    expect(await f.users.listUsers()).to.deep.equal([]);
  });

  it('serves the users file with the options given, on the runner reactor', async () => {
    const file = join(dir, 'users.json');
    writeFileSync(file, '{ "alice": "hello" }');
    const f = asFinger(
      await fingerService.makeFactory(
        { users: file, 'allow-list': true, forwarding: true, 'idle-timeout': '2.5' },
        context,
      ),
    );
    expect(f.users).to.be.instanceOf(JsonFileUserDatabase);
    expect([f.allowList, f.forwarding, f.idleTimeout]).to.deep.equal([true, true, 2.5]);
    const proto = f.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1))!;
    const transport = new StringTransport();
    proto.makeConnection(transport);
    expect(reactor.getDelayedCalls().some((c) => c.getTime() === reactor.seconds() + 2.5)).to.equal(
      true,
    );
  });

  for (const bad of ['0', '-1', 'soon', '', 'Infinity']) {
    it(`rejects --idle-timeout ${JSON.stringify(bad)} with a clear message`, () => {
      expect(() => fingerService.makeFactory({ 'idle-timeout': bad }, context)).to.throw(
        /--idle-timeout must be a number of seconds > 0/,
      );
    });
  }

  // Issue #9: `torsion finger --users /dev/zero` never started. makeFactory
  // reads the file synchronously: a regression would block this process for
  // good, so each case runs in a child with a time limit.
  for (const [what, path] of [
    ['/dev/zero', () => '/dev/zero'],
    ['a FIFO', () => join(dir, 'users.json')],
  ] as const) {
    it(`rejects --users ${what} with a clear message, at once`, function () {
      if (process.platform === 'win32' || !existsSync('/dev/zero')) this.skip();
      const users = path();
      if (users !== '/dev/zero') execFileSync('mkfifo', [users]);
      const printed = inChild(`
        import fingerService from ${JSON.stringify(sourceUrl('plugin.ts'))};
        try {
          fingerService.makeFactory({ users: ${JSON.stringify(users)} }, {});
          console.log('made');
        } catch (err) {
          console.log(err.message);
        }`);
      const kind = users === '/dev/zero' ? 'a character device' : 'a FIFO (named pipe)';
      expect(printed).to.equal(
        `Cannot read the finger users file ${users}: ${users} is ${kind}, not a regular file`,
      );
    });
  }

  it('rejects a missing users file with a clear message', () => {
    expect(() => fingerService.makeFactory({ users: join(dir, 'nope.json') }, context)).to.throw(
      /Cannot read the finger users file/,
    );
  });
});
