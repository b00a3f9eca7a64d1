// @torsion/line is installable alone: `npm pack` it and @torsion/core, install
// both tarballs into a fresh project outside the monorepo, and run a script
// that uses LineReceiver there. Needs the packages built (`npx tsc -b`).
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  skipWithoutNpm,
  packAndInstall,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const SCRIPT = `
import { LineReceiver } from '@torsion/line';
import { StringTransport } from '@torsion/core/testing';

class Shout extends LineReceiver {
  lineReceived(line) {
    this.sendLine(line.toString().toUpperCase());
  }
}
const proto = new Shout();
const transport = new StringTransport();
proto.makeConnection(transport);
for (const byte of Buffer.from('hello\\r\\nworld\\r\\n')) proto.dataReceived(Buffer.of(byte));
process.stdout.write(JSON.stringify({ wrote: transport.value().toString() }));
`;

describe('@torsion/line packed and installed alone', function () {
  this.timeout(180_000);
  let project: InstalledProject | null = null;

  before(skipWithoutNpm);

  after(() => project?.remove());

  it('installs from the two tarballs and runs a LineReceiver', () => {
    project = packAndInstall(['core', 'line']);
    expect(project.tarballs).to.deep.equal(['torsion-core-0.1.0.tgz', 'torsion-line-0.1.0.tgz']);
    project.write({ 'check.mjs': SCRIPT });
    expect(JSON.parse(project.node(['check.mjs']))).to.deep.equal({
      wrote: 'HELLO\r\nWORLD\r\n',
    });
    // Nothing but the two packages was installed: @torsion/line has no other dependency.
    expect(
      readdirSync(join(project.dir, 'node_modules')).filter((d) => !d.startsWith('.')),
    ).to.deep.equal(['@torsion']);
  });
});
