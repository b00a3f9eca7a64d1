// @torsion/echo is installable alone: `npm pack` it with @torsion/core and
// @torsion/line, install the three tarballs into a fresh project outside the
// monorepo, type-check a TypeScript user of both entry points (`.` and
// `./plugin`) and run a script that serves Echo and calls echo() over loopback.
// Needs the packages built (`npx tsc -b`).
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  skipWithoutNpm,
  packAndInstall,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const SCRIPT = `
import { NodeReactor } from '@torsion/core';
import { EchoFactory, echo } from '@torsion/echo';
import plugin from '@torsion/echo/plugin';

const reactor = new NodeReactor({ installSignalHandlers: false });
const port = await reactor.listenTCP(0, new EchoFactory(), { interface: '127.0.0.1' }).whenListening();
const reply = await echo('packed', { host: '127.0.0.1', port: port.getHost().port, reactor });
await port.stopListening();
process.stdout.write(JSON.stringify({ reply: reply.toString(), plugin: plugin.name }));
`;

const TYPED = `
import type { IServiceMaker } from '@torsion/core';
import { Echo, LineEcho, echo, type EchoClientOptions } from '@torsion/echo';
import plugin from '@torsion/echo/plugin';

const maker: IServiceMaker = plugin;
const options: EchoClientOptions = { host: '127.0.0.1', port: 7, timeout: 1 };
export const parts = [maker.name, Echo.name, LineEcho.name, typeof echo, options.host];
`;

describe('@torsion/echo packed and installed alone', function () {
  this.timeout(180_000);
  let project: InstalledProject | null = null;

  before(skipWithoutNpm);

  after(() => project?.remove());

  it('installs from the three tarballs, type-checks, and round-trips through echo()', () => {
    project = packAndInstall(['core', 'line', 'echo']);
    expect(project.tarballs).to.deep.equal([
      'torsion-core-0.1.0.tgz',
      'torsion-echo-0.1.0.tgz',
      'torsion-line-0.1.0.tgz',
    ]);
    project.write({ 'check.mjs': SCRIPT, 'typed.ts': TYPED });
    project.typeCheck(['typed.ts']);
    expect(JSON.parse(project.node(['check.mjs']))).to.deep.equal({
      reply: 'packed',
      plugin: 'echo',
    });
    expect(
      readdirSync(join(project.dir, 'node_modules')).filter((d) => !d.startsWith('.')),
    ).to.deep.equal(['@torsion']);
  });
});
