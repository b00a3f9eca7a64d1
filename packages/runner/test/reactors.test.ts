// Choosing the reactor: the runtime's default, `--reactor node|bun`, and a
// user's module exporting createReactor(), through createReactor() and through
// a whole `torsion` command line served on the chosen reactor.
import {
  FileNotRegularError,
  NodeReactor,
  setLogObservers,
  type IListeningPort,
  type IReactor,
} from '@torsion/core';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createReactor, defaultReactorName, ReactorChoiceError } from '../src/reactors.js';
import { runServices } from '../src/run.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('reactor choice', function () {
  this.timeout(15_000);
  afterEach(() => setLogObservers([]));

  it('defaults to the Node reactor on Node', async () => {
    expect(defaultReactorName()).to.equal('node');
    const reactor = await createReactor(undefined, fixtures);
    expect(reactor).to.be.instanceOf(NodeReactor);
  });

  it("builds a NodeReactor for 'node'", async () => {
    expect(await createReactor('node', fixtures)).to.be.instanceOf(NodeReactor);
  });

  // Issue #9: import() of a FIFO waited for a writer forever.
  it('refuses a reactor module that is a FIFO, without reading it', async function () {
    if (process.platform === 'win32') this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'torsion-reactor-'));
    try {
      execFileSync('mkfifo', [join(dir, 'reactor.mjs')]);
      const error = await createReactor('./reactor.mjs', dir).catch((err: unknown) => err);
      expect(error).to.be.instanceOf(ReactorChoiceError);
      expect((error as Error).cause).to.be.instanceOf(FileNotRegularError);
      expect((error as Error).message).to.match(/is a FIFO \(named pipe\), not a regular file$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses 'bun' outside the Bun runtime, saying how to run it", async () => {
    const error = await createReactor('bun', fixtures).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(ReactorChoiceError);
    expect((error as Error).message).to.match(/needs the Bun runtime/);
  });

  it('builds a reactor from a module exporting createReactor()', async () => {
    const reactor = await createReactor('./custom-reactor.mjs', fixtures);
    expect(reactor.constructor.name).to.equal('CustomReactor');
  });

  it('names the missing methods when createReactor() returns something else', async () => {
    const error = await createReactor('./not-a-reactor.mjs', fixtures).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ReactorChoiceError);
    expect((error as Error).message).to.match(/did not build a reactor \(missing stop, callLater/);
  });

  it('rejects a name that is neither built in nor loadable', async () => {
    const error = await createReactor('no-such-reactor', fixtures).catch((e: unknown) => e);
    expect((error as Error).message).to.match(
      /unknown reactor 'no-such-reactor': not one of node, bun/,
    );
  });

  // Issue #10: a module whose own import failed was reported as unknown.
  it('reports a missing import inside a reactor module, not an unknown reactor', async () => {
    const error = await createReactor('./imports-missing.mjs', fixtures).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ReactorChoiceError);
    expect((error as Error).message).to.match(
      /^reactor '\.\/imports-missing\.mjs' failed to load: Cannot find package 'torsion-test-no-such-package'/,
    );
  });

  it('finds a reactor package installed in the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-reactor-cwd-'));
    try {
      const root = join(dir, 'node_modules', 'torsion-reactor-here');
      mkdirSync(root, { recursive: true });
      writeFileSync(
        join(root, 'package.json'),
        JSON.stringify({ name: 'torsion-reactor-here', type: 'module', exports: './index.js' }),
      );
      writeFileSync(
        join(root, 'index.js'),
        `export { createReactor } from ${JSON.stringify(pathToFileURL(join(fixtures, 'custom-reactor.mjs')).href)};\n`,
      );
      const reactor = await createReactor('torsion-reactor-here', dir);
      expect(reactor.constructor.name).to.equal('CustomReactor');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a module without createReactor()', async () => {
    const error = await createReactor('./hello-plugin.mjs', fixtures).catch((e: unknown) => e);
    expect((error as Error).message).to.match(/must export a createReactor\(\) function/);
  });

  it('exits 2 for `torsion --reactor bun echo` on Node, before listening anywhere', async () => {
    const stderr = new Sink();
    const code = await runServices(
      ['--reactor', 'bun', 'echo', '-l', 'tcp:0:interface=127.0.0.1'],
      {
        stdout: new Sink(),
        stderr,
        cwd: fixtures,
      },
    );
    expect(code).to.equal(2);
    expect(stderr.text).to.match(/^torsion: --reactor bun needs the Bun runtime/m);
  });

  it('serves echo on the reactor a --reactor module builds', async () => {
    let listening: (ports: readonly IListeningPort[]) => void = () => {};
    const ready = new Promise<readonly IListeningPort[]>((resolve) => (listening = resolve));
    const code = runServices(
      ['--reactor', './custom-reactor.mjs', 'echo', '-l', 'tcp:0:interface=127.0.0.1'],
      {
        stdout: new Sink(),
        stderr: new Sink(),
        cwd: fixtures,
        // Only tcp: endpoints here: their ports have IP addresses.
        onListening: (ports) => listening(ports as readonly IListeningPort[]),
      },
    );
    const ports = await ready;
    const reactor = (globalThis as { __torsionCustomReactor?: IReactor }).__torsionCustomReactor;
    expect(reactor?.constructor.name).to.equal('CustomReactor');
    expect(reactor?.running).to.equal(true);
    expect(ports).to.have.length(1);
    reactor?.stop();
    expect(await code).to.equal(0);
  });
});
