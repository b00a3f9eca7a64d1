// @torsion/core works when installed alone: pack it, install the tarball into a
// project outside the monorepo, type-check a README-style echo server against the
// published declarations, run it, and echo bytes through it over loopback.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  skipWithoutNpm,
  packAndInstall,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const serverSource = `
import { Factory, getReactor, Protocol, type IListeningPort } from '@torsion/core';
import { StringTransport } from '@torsion/core/testing';
import { connect } from 'node:net';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

// The test doubles come along in the same tarball.
const fake = new StringTransport();
const offline = new Echo();
offline.makeConnection(fake);
offline.dataReceived(Buffer.from('offline'));
if (fake.value().toString() !== 'offline') throw new Error('StringTransport echo failed');

const reactor = getReactor();
const port: IListeningPort = reactor.listenTCP(0, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
await port.whenListening();
const client = connect(port.getHost().port, '127.0.0.1');
client.end('hello from a packed @torsion/core');
let echoed = '';
client.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
client.on('close', () => {
  process.stdout.write(echoed + '\\n');
  reactor.callWhenRunning(() => reactor.stop());
});
await reactor.run();
`;

describe('@torsion/core packed and installed alone', function () {
  this.timeout(180_000);
  let project: InstalledProject | null = null;

  before(skipWithoutNpm);

  after(() => project?.remove());

  it('type-checks and runs an echo server from the tarball', () => {
    project = packAndInstall(['core']);
    expect(project.tarballs).to.deep.equal(['torsion-core-0.1.0.tgz']);
    const installed = readdirSync(join(project.dir, 'node_modules', '@torsion', 'core'));
    expect(installed).to.include.members(['dist', 'package.json', 'README.md']);
    expect(installed).not.to.include('src');

    project.write({ 'server.ts': serverSource });
    project.typeCheck(['server.ts']);
    const stdout = project.node([join('out', 'server.js')], { timeoutMs: 30_000 });
    expect(stdout.trim()).to.equal('hello from a packed @torsion/core');
  });
});
