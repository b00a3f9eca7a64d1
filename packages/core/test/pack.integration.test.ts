// @torsion/core works when installed alone: pack it, install the tarball into a
// project outside the monorepo, type-check a README-style echo server against the
// published declarations, run it, and echo bytes through it over loopback.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(packageDir, '../..');

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
  this.timeout(120_000);
  let workDir = '';

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'torsion-pack-'));
  });

  after(async () => {
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  it('type-checks and runs an echo server from the tarball', async () => {
    await run('npm', ['pack', '--silent', '--pack-destination', workDir], { cwd: packageDir });
    const tarball = (await readdir(workDir)).find((name) => name.endsWith('.tgz'));
    expect(tarball, 'npm pack produced a tarball').to.be.a('string');

    const project = join(workDir, 'app');
    await run('mkdir', ['-p', project]);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    await run(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', join(workDir, tarball ?? '')],
      { cwd: project },
    );
    const installed = await readdir(join(project, 'node_modules', '@torsion', 'core'));
    expect(installed).to.include.members(['dist', 'package.json', 'README.md']);
    expect(installed).not.to.include('src');

    await writeFile(join(project, 'server.ts'), serverSource);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          outDir: 'out',
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['server.ts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', project]);
    const { stdout } = await run(process.execPath, [join(project, 'out', 'server.js')], {
      cwd: project,
      timeout: 30_000,
    });
    expect(stdout.trim()).to.equal('hello from a packed @torsion/core');
  });
});
