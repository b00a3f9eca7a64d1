// @torsion/line is installable alone: `npm pack` it and @torsion/core, install
// both tarballs into a fresh project outside the monorepo, and run a script
// that uses LineReceiver there. Needs the packages built (`npx tsc -b`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const LINE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CORE_DIR = fileURLToPath(new URL('../../core', import.meta.url));
const NPM = 'npm';
const STEP_TIMEOUT = 60_000;

function run(args: string[], cwd: string): string {
  return execFileSync(NPM, args, {
    cwd,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

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
  this.timeout(4 * STEP_TIMEOUT);
  let work: string | null = null;

  before(function () {
    if (spawnSync(NPM, ['--version'], { timeout: 20_000 }).status !== 0) {
      process.stderr.write('\n  SKIPPED: npm is not available\n');
      this.skip();
    }
  });

  afterEach(() => {
    if (work !== null) rmSync(work, { recursive: true, force: true });
    work = null;
  });

  it('installs from the two tarballs and runs a LineReceiver', () => {
    for (const dir of [CORE_DIR, LINE_DIR]) {
      expect(
        existsSync(join(dir, 'dist', 'index.js')),
        `${dir}dist is missing: run npx tsc -b first`,
      ).to.equal(true);
    }
    work = mkdtempSync(join(tmpdir(), 'torsion-line-pack-'));
    const tarballs = join(work, 'tarballs');
    const project = join(work, 'project');
    mkdirSync(tarballs);
    mkdirSync(project);
    run(['pack', '--silent', '--ignore-scripts', '--pack-destination', tarballs], CORE_DIR);
    run(['pack', '--silent', '--ignore-scripts', '--pack-destination', tarballs], LINE_DIR);
    const files = readdirSync(tarballs).sort();
    expect(files).to.deep.equal(['torsion-core-0.1.0.tgz', 'torsion-line-0.1.0.tgz']);

    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
    );
    writeFileSync(join(project, 'check.mjs'), SCRIPT);
    run(
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        ...files.map((f) => join(tarballs, f)),
      ],
      project,
    );
    const output = execFileSync(process.execPath, ['check.mjs'], {
      cwd: project,
      encoding: 'utf8',
      timeout: STEP_TIMEOUT,
    });
    expect(JSON.parse(output)).to.deep.equal({ wrote: 'HELLO\r\nWORLD\r\n' });
    // Nothing but the two packages was installed: @torsion/line has no other dependency.
    expect(
      readdirSync(join(project, 'node_modules')).filter((d) => !d.startsWith('.')),
    ).to.deep.equal(['@torsion']);
  });
});
