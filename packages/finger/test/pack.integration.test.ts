// @torsion/finger is installable alone: pack it with @torsion/core and
// @torsion/line, install the tarballs into a fresh project, then run a server
// and the client from there over loopback, and the torsion-finger bin.
// Needs the packages built (`npx tsc -b`).
import { expect } from 'chai';
import { join } from 'node:path';
import {
  skipWithoutNpm,
  packAndInstall,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const SCRIPT = `

import { NodeReactor } from '@torsion/core';
import { FingerFactory, finger } from '@torsion/finger';
import fingerService from '@torsion/finger/plugin';

const reactor = new NodeReactor({ installSignalHandlers: false });
const done = reactor.run();
const factory = new FingerFactory({ users: { alice: 'packed' }, reactor });
const port = (await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening()).getHost().port;
const reply = await finger('alice', { host: '127.0.0.1', port, reactor });
const bin = await new Promise((resolve) => {
  import('node:child_process').then(({ execFile }) =>
    execFile('node_modules/.bin/torsion-finger', ['alice@127.0.0.1:' + port], (err, stdout) =>
      resolve(stdout),
    ),
  );
});
reactor.stop();
await done;
process.stdout.write(JSON.stringify({ reply, bin, plugin: fingerService.name }));
`;

const TYPES = `
import { FingerFactory, finger, type UserDatabase } from '@torsion/finger';
import fingerService from '@torsion/finger/plugin';
const users: UserDatabase = { getUser: async () => null, listUsers: async () => [] };
const factory: FingerFactory = new FingerFactory({ users, allowList: true });
const reply: PromiseLike<string> = finger('a', { host: 'h' });
const name: string = fingerService.name;
void factory; void reply; void name;
`;

describe('@torsion/finger packed and installed alone', function () {
  this.timeout(180_000);
  let project: InstalledProject | null = null;

  before(skipWithoutNpm);

  after(() => project?.remove());

  it('installs from the three tarballs and serves and queries finger over loopback', () => {
    project = packAndInstall(['core', 'line', 'finger']);
    expect(project.tarballs).to.deep.equal([
      'torsion-core-0.1.0.tgz',
      'torsion-finger-0.1.0.tgz',
      'torsion-line-0.1.0.tgz',
    ]);
    project.write({ 'check.mjs': SCRIPT, 'types.ts': TYPES });
    expect(JSON.parse(project.node(['check.mjs']))).to.deep.equal({
      reply: 'Login: alice\npacked\n',
      bin: 'Login: alice\npacked\n',
      plugin: 'finger',
    });
    project.typeCheck([join(project.dir, 'types.ts')]);
  });
});
