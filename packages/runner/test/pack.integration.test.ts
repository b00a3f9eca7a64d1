// @torsion/runner installs alone with the packages it depends on (the plugins,
// @torsion/haproxy for the haproxy: endpoint with @torsion/policies under it,
// @torsion/metrics): pack all eight, install the tarballs into a fresh
// project, and run the installed `torsion`.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  skipWithoutNpm,
  packAndInstall,
  type InstalledProject,
} from '../../../scripts/pack-install.js';

const LIBRARY_USE = `
import { parseServerDescription, type EndpointDescription } from '@torsion/core';
import { runServices } from '@torsion/runner';
const endpoint: EndpointDescription = parseServerDescription('tcp:7979:interface=\\\\:\\\\:1');
const run: typeof runServices = runServices;
if (typeof run === 'function') process.stdout.write(JSON.stringify(endpoint));
`;

describe('@torsion/runner packed and installed alone', function () {
  this.timeout(240_000);
  let project: InstalledProject | null = null;

  before(skipWithoutNpm);

  after(() => project?.remove());

  it('installs the torsion command, which finds the echo and finger plugins', () => {
    project = packAndInstall([
      'core',
      'line',
      'echo',
      'finger',
      'policies',
      'haproxy',
      'metrics',
      'runner',
    ]);
    expect(existsSync(join(project.dir, 'node_modules', '.bin', 'torsion'))).to.equal(true);
    const help = project.node([join('node_modules', '.bin', 'torsion'), '--help']);
    expect(help).to.match(/^ {2}echo {7}Echo \(RFC 862\)/m);
    expect(help).to.match(/^ {2}finger {5}Finger server/m);
    expect(help).not.to.include('not installed');
    expect(help).to.match(/^ +haproxy:/m); // @torsion/haproxy loaded from the installed package
    // The library API resolves, with its types, from the installed package.
    project.write({ 'check.ts': LIBRARY_USE });
    project.typeCheck(['check.ts']);
    expect(project.node(['out/check.js'])).to.equal(
      '{"type":"tcp","port":7979,"interface":"::1","backlog":4096}',
    );
  });
});
