// @torsion/reactor-bun works when installed alone: pack it with @torsion/core,
// install both tarballs into a project outside the monorepo, and run an echo
// server on BunReactor there with the Bun binary the repository installs.
// This file runs in the Node pass (it only packs and spawns); the reactor
// itself runs in the child Bun process.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  packAndInstall,
  repoRoot,
  skipWithoutNpm,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const bun = join(repoRoot, 'node_modules', '.bin', 'bun');

const SERVER = `
import { Factory, Protocol } from '@torsion/core';
import { BunReactor, isBun } from '@torsion/reactor-bun';
import { connect } from 'node:net';

class Echo extends Protocol {
  dataReceived(data) {
    this.transport.write(data);
  }
}

if (!isBun()) throw new Error('not running on Bun');
const reactor = new BunReactor({ installSignalHandlers: false });
const stopped = reactor.run();
const port = await reactor.listenTCP(0, Factory.forProtocol(Echo), { interface: '127.0.0.1' }).whenListening();
const client = connect(port.getHost().port, '127.0.0.1');
client.end('hello from a packed @torsion/reactor-bun');
let echoed = '';
client.on('data', (chunk) => (echoed += chunk.toString()));
client.on('close', () => reactor.stop());
await stopped;
process.stdout.write(reactor.constructor.name + ': ' + echoed + '\\n');
`;

describe('@torsion/reactor-bun packed and installed alone', function () {
  this.timeout(180_000);
  let project: InstalledProject | null = null;

  before(function () {
    skipWithoutNpm.call(this);
    if (!existsSync(bun)) {
      process.stderr.write('\n  SKIPPED: the bun binary is missing: npm ci installs it\n');
      this.skip();
    }
  });

  after(() => project?.remove());

  it('installs from the two tarballs and serves echo on BunReactor under Bun', () => {
    project = packAndInstall(['core', 'reactor-bun']);
    expect(project.tarballs).to.deep.equal([
      'torsion-core-0.1.0.tgz',
      'torsion-reactor-bun-0.1.0.tgz',
    ]);
    const installed = readdirSync(join(project.dir, 'node_modules', '@torsion', 'reactor-bun'));
    expect(installed).to.include.members(['dist', 'package.json', 'README.md']);
    expect(installed).not.to.include('src');
    project.write({ 'server.mjs': SERVER });
    const stdout = execFileSync(bun, ['server.mjs'], {
      cwd: project.dir,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(stdout.trim()).to.equal('BunReactor: hello from a packed @torsion/reactor-bun');
  });
});
