import { FileNotRegularError } from '@torsion/core';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlugin, PluginError, validateServiceMaker } from '../src/plugins.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

describe('loadPlugin', () => {
  it('loads the built-in echo and finger plugins by name', async () => {
    const echo = await loadPlugin('echo', fixtures);
    const finger = await loadPlugin('finger', fixtures);
    expect(echo.defaultListen).to.deep.equal(['tcp:8007']);
    expect(finger.defaultListen).to.deep.equal(['tcp:7979']);
    expect(finger.options).to.have.property('users');
  });

  it('loads a plugin module by path, relative to the working directory', async () => {
    const plugin = await loadPlugin('./hello-plugin.mjs', fixtures);
    expect(plugin.name).to.equal('hello');
  });

  it("loads a package's ./plugin export by package name", async () => {
    expect((await loadPlugin('@torsion/echo', fixtures)).name).to.equal('echo');
  });

  // Issue #9: import() of a FIFO waited for a writer forever.
  it('refuses a plugin path that is a FIFO or a directory, without reading it', async function () {
    if (process.platform === 'win32') this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'torsion-plugin-'));
    try {
      execFileSync('mkfifo', [join(dir, 'plugin.mjs')]);
      for (const [spec, kind] of [
        ['./plugin.mjs', 'FIFO (named pipe)'],
        ['.', 'directory'],
      ] as const) {
        const err = await loadPlugin(spec, dir).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(PluginError);
        expect((err as PluginError).cause).to.be.instanceOf(FileNotRegularError);
        expect((err as PluginError).cause).to.include({ kind });
        expect((err as Error).message).to.match(new RegExp(`^plugin '${spec}' failed to load: `));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong with a module that is not a plugin', async () => {
    try {
      await loadPlugin('./not-a-plugin.mjs', fixtures);
      expect.fail('loaded');
    } catch (err) {
      expect(err).to.be.instanceOf(PluginError);
      expect((err as Error).message).to.match(
        /'\.\/not-a-plugin\.mjs' is not a valid Torsion plugin: `name`/,
      );
    }
  });

  it('reports a module that throws while loading', async () => {
    try {
      await loadPlugin('./throws-on-load.mjs', fixtures);
      expect.fail('loaded');
    } catch (err) {
      expect((err as Error).message).to.equal(
        "plugin './throws-on-load.mjs' failed to load: broken on purpose",
      );
    }
  });

  // Issue #10: a plugin whose own import failed was reported as missing.
  it('reports a missing import inside a plugin module, not a missing plugin', async () => {
    const err = await loadPlugin('./imports-missing.mjs', fixtures).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PluginError);
    expect((err as Error).message).to.match(
      /^plugin '\.\/imports-missing\.mjs' failed to load: Cannot find package 'torsion-test-no-such-package'/,
    );
  });

  it('says "no plugin" for a module path that does not exist', async () => {
    const err = await loadPlugin('./no-such-plugin.mjs', fixtures).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/^no plugin '\.\/no-such-plugin\.mjs'/);
  });

  describe('a package installed in the working directory', () => {
    let dir = '';
    /** Writes node_modules/<name> under `dir` with a ./plugin export. */
    function installPackage(name: string, plugin: string): void {
      const root = join(dir, 'node_modules', name);
      mkdirSync(root, { recursive: true });
      writeFileSync(
        join(root, 'package.json'),
        JSON.stringify({ name, type: 'module', exports: { './plugin': './plugin.js' } }),
      );
      writeFileSync(join(root, 'plugin.js'), plugin);
    }
    const pluginNamed = (name: string): string =>
      `export default { name: '${name}', description: 'd', defaultListen: ['tcp:0'], options: {}, makeFactory() {} };\n`;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'torsion-plugin-cwd-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    // Issue #10: package plugins were resolved from the runner's install location only.
    it('is found there, though the runner cannot see it', async () => {
      installPackage('torsion-plugin-here', pluginNamed('here'));
      expect((await loadPlugin('torsion-plugin-here', dir)).name).to.equal('here');
    });

    it("comes before a package of the same name beside the runner's", async () => {
      installPackage('@torsion/echo', pluginNamed('local-echo'));
      expect((await loadPlugin('@torsion/echo', dir)).name).to.equal('local-echo');
      expect((await loadPlugin('echo', dir)).name).to.equal('echo');
    });

    it('whose own import fails is reported with that failure', async () => {
      installPackage('torsion-plugin-broken', "import 'torsion-test-no-such-package';\n");
      const err = await loadPlugin('torsion-plugin-broken', dir).catch((e: unknown) => e);
      expect((err as Error).message).to.match(
        /^plugin 'torsion-plugin-broken' failed to load: Cannot find package 'torsion-test-no-such-package'/,
      );
    });
  });

  it('names the built-ins when nothing by that name exists', async () => {
    try {
      await loadPlugin('no-such-plugin-anywhere', fixtures);
      expect.fail('loaded');
    } catch (err) {
      expect((err as Error).message).to.match(
        /no plugin 'no-such-plugin-anywhere': not a built-in \(echo, finger\)/,
      );
    }
  });
});

describe('validateServiceMaker', () => {
  const valid = {
    name: 'x',
    description: 'd',
    defaultListen: ['tcp:1'],
    options: {},
    makeFactory: () => null,
  };

  it('accepts a well-formed plugin', () => {
    expect(validateServiceMaker(valid, 'x')).to.equal(valid);
  });

  const broken: [string, unknown, RegExp][] = [
    ['null', null, /default export is null/],
    ['a bad name', { ...valid, name: 'Bad' }, /`name`/],
    ['no description', { ...valid, description: 3 }, /`description`/],
    ['bad defaultListen', { ...valid, defaultListen: 'tcp:1' }, /`defaultListen`/],
    ['no options', { ...valid, options: null }, /`options`/],
    ['a bad option type', { ...valid, options: { n: { type: 'number' } } }, /option 'n'/],
    ['no makeFactory', { ...valid, makeFactory: 1 }, /`makeFactory`/],
  ];
  for (const [what, value, message] of broken) {
    it(`rejects ${what}`, () => {
      expect(() => validateServiceMaker(value, 'p')).to.throw(PluginError, message);
    });
  }
});

describe('docs/runner.md', () => {
  it('shows the plugin example exactly as the tested fixture', () => {
    const doc = readFileSync(join(fixtures, '../../../../docs/runner.md'), 'utf8');
    const listing = /```js\n\/\/ hello-plugin\.mjs[^\n]*\n([\s\S]*?)```/.exec(doc)?.[1];
    const fixture = readFileSync(join(fixtures, 'hello-plugin.mjs'), 'utf8')
      .split('\n')
      .slice(1)
      .join('\n');
    expect(listing).to.equal(fixture);
  });
});
