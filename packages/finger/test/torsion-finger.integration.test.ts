// The torsion-finger command, run as a subprocess against our server on port 0.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NodeReactor } from '@torsion/core';
import { repoRoot } from '../../../scripts/pack-install.js';
import { FingerFactory } from '../src/finger-server.js';

const BIN = fileURLToPath(new URL('../src/bin/torsion-finger.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command (through tsx, from the sources), bounded to 20 seconds. */
function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
      cwd: repoRoot,
      timeout: 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('torsion-finger command (integration)', function () {
  this.timeout(30_000);
  let reactor: NodeReactor;
  let done: Promise<void>;
  let port: number;

  before(async () => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    const factory = new FingerFactory({
      users: { alice: 'Alice\nOffice 12' },
      allowList: true,
      reactor,
    });
    const listening = await reactor
      .listenTCP(0, factory, { interface: '127.0.0.1' })
      .whenListening();
    port = listening.getHost().port;
  });

  after(async () => {
    reactor.stop();
    await done;
  });

  it('prints the reply and exits 0', async () => {
    const result = await run([`alice@127.0.0.1:${port}`]);
    expect(result).to.deep.equal({
      code: 0,
      stdout: 'Login: alice\nAlice\nOffice 12\n',
      stderr: '',
    });
  });

  it('lists users with @host, and accepts -l', async () => {
    expect((await run([`@127.0.0.1:${port}`])).stdout).to.equal('alice\n');
    expect((await run(['-l', `nobody@127.0.0.1:${port}`])).stdout).to.equal(
      'Login: nobody\nNo such user\n',
    );
  });

  it('prints one line and exits 1 when the connection is refused', async () => {
    const closed = await reactor
      .listenTCP(0, new FingerFactory({ reactor }), { interface: '127.0.0.1' })
      .whenListening();
    const free = closed.getHost().port;
    await closed.stopListening();
    const result = await run([`alice@127.0.0.1:${free}`]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.match(new RegExp(`^torsion-finger: .*127\\.0\\.0\\.1:${free}.*\\n$`));
  });

  for (const args of [[], ['alice'], ['a@h:99999'], ['--bogus', 'a@h'], ['a@h', 'b@h']]) {
    it(`exits 2 with usage for ${JSON.stringify(args)}`, async () => {
      const result = await run(args);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/^torsion-finger: .+\nUsage: torsion-finger/);
    });
  }

  it('prints help on --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.match(/^Usage: torsion-finger/);
  });
});
