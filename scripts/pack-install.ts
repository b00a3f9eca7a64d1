// Shared by every package's "installable alone" test: `npm pack` the given
// workspace packages, install the tarballs into a fresh project outside
// the monorepo, and hand back helpers to run code there. Packages must be built.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo's root folder. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const STEP_TIMEOUT_MS = 60_000;

/** True when `npm` can be run here (the tests skip loudly otherwise). */
export function npmAvailable(): boolean {
  return spawnSync('npm', ['--version'], { timeout: 20_000 }).status === 0;
}

/** A mocha `before` hook: skips the suite, saying why, when npm cannot be run. */
export function skipWithoutNpm(this: Mocha.Context): void {
  if (!npmAvailable()) {
    process.stderr.write('\n  SKIPPED: npm is not available\n');
    this.skip();
  }
}

/** A temporary project with the packed packages installed. */
export interface InstalledProject {
  /** The project folder (its `node_modules` holds only the installed tarballs). */
  readonly dir: string;
  /** The tarball file names, sorted. */
  readonly tarballs: readonly string[];
  /** Writes `files` (relative path → content) into the project. */
  write(files: Readonly<Record<string, string>>): void;
  /** Runs `node <args>` in the project and returns its stdout. */
  node(args: readonly string[], options?: { timeoutMs?: number; input?: string }): string;
  /** Type-checks the project with the monorepo's TypeScript against the installed declarations. */
  typeCheck(files: readonly string[]): void;
  /** Deletes the project and the tarballs. */
  remove(): void;
}

/**
 * Packs each workspace package (folder names under packages/, e.g. `core`) and
 * installs the tarballs into a new project outside the monorepo. Third-party
 * dependencies come from npm's cache where it has them, else from the registry.
 * @throws Error naming the package when one is not built.
 */
export function packAndInstall(packageDirs: readonly string[]): InstalledProject {
  const work = mkdtempSync(join(tmpdir(), 'torsion-pack-'));
  const tarballDir = join(work, 'tarballs');
  const dir = join(work, 'project');
  mkdirSync(tarballDir);
  mkdirSync(dir);
  const npm = (args: string[], cwd: string): string =>
    execFileSync('npm', args, {
      cwd,
      encoding: 'utf8',
      timeout: STEP_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  for (const name of packageDirs) {
    const packageDir = join(repoRoot, 'packages', name);
    if (!existsSync(join(packageDir, 'dist', 'index.js'))) {
      throw new Error(`packages/${name}/dist is missing: run \`npx tsc -b\` first`);
    }
    npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', tarballDir], packageDir);
  }
  const tarballs = readdirSync(tarballDir).sort();
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
  );
  npm(
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...tarballs.map((file) => join(tarballDir, file)),
    ],
    dir,
  );
  return {
    dir,
    tarballs,
    write(files) {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
    },
    node(args, options = {}) {
      return execFileSync(process.execPath, args, {
        cwd: dir,
        encoding: 'utf8',
        timeout: options.timeoutMs ?? STEP_TIMEOUT_MS,
        ...(options.input === undefined ? {} : { input: options.input }),
      });
    },
    typeCheck(files) {
      writeFileSync(
        join(dir, 'tsconfig.json'),
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
          files,
        }),
      );
      const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
      execFileSync(process.execPath, [tsc, '-p', dir], {
        encoding: 'utf8',
        timeout: STEP_TIMEOUT_MS,
      });
    },
    remove() {
      rmSync(work, { recursive: true, force: true });
    },
  };
}
