// A dry run of the release's versioning step, so a broken lerna set-up fails
// `npm test` rather than the next release. Clones the repository's HEAD into a
// temporary folder, runs `lerna version --conventional-commits` there without
// committing, tagging or pushing, checks that every package got a new version,
// a CHANGELOG.md and peer ranges that cover its siblings, then deletes the
// clone. Nothing in this checkout changes. Offline and fast: the clone borrows
// this checkout's node_modules, and lerna reads only git history. Works from a
// shallow clone too: without the last release's tag in the history, lerna
// takes every package as changed (and `--force-publish` makes it version them
// all in any case, so the check does not depend on what changed).
//
//   node scripts/check-release.mjs      (part of `npm run check`)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caretCovers } from './sync-peer-ranges.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 120_000;

/** name → manifest of every package under `repo`/packages. */
function manifests(repo) {
  return new Map(
    readdirSync(join(repo, 'packages'))
      .filter((dir) => existsSync(join(repo, 'packages', dir, 'package.json')))
      .map((dir) => {
        const manifest = JSON.parse(
          readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8'),
        );
        return [manifest.name, { dir, manifest }];
      }),
  );
}

function main() {
  const work = mkdtempSync(join(tmpdir(), 'torsion-release-'));
  const clone = join(work, 'repo');
  try {
    const git = (args, cwd) =>
      execFileSync('git', args, { cwd, encoding: 'utf8', timeout: TIMEOUT_MS, stdio: 'pipe' });
    git(['clone', '--quiet', '--no-hardlinks', root, clone], work);
    // Identity for lerna's git calls in the clone; nothing is committed.
    git(['config', 'user.name', 'Torsion release check'], clone);
    git(['config', 'user.email', 'release-check@invalid'], clone);
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const before = manifests(clone);
    const lerna = join(root, 'node_modules', 'lerna', 'dist', 'cli.js');
    const lernaBin = existsSync(lerna) ? lerna : join(root, 'node_modules', '.bin', 'lerna');
    execFileSync(
      process.execPath,
      [
        lernaBin,
        'version',
        '--conventional-commits',
        '--force-publish',
        '--no-push',
        '--no-git-tag-version',
        '--no-private',
        '--yes',
        '--loglevel',
        'warn',
      ],
      {
        cwd: clone,
        encoding: 'utf8',
        timeout: TIMEOUT_MS,
        stdio: 'pipe',
        // No CI-specific behaviour, no update checks, nothing from the network.
        env: { ...process.env, CI: 'true', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      },
    );
    const after = manifests(clone);
    const problems = [];
    for (const [name, { dir, manifest }] of after) {
      const old = before.get(name)?.manifest.version;
      if (manifest.version === old) problems.push(`${name}: version still ${old}`);
      if (!existsSync(join(clone, 'packages', dir, 'CHANGELOG.md'))) {
        problems.push(`${name}: no packages/${dir}/CHANGELOG.md`);
      }
      for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
        const version = after.get(peer)?.manifest.version;
        if (version !== undefined && !caretCovers(range, version)) {
          problems.push(`${name}: peer ${peer}@${range} does not cover ${version}`);
        }
      }
    }
    if (problems.length > 0) {
      process.stderr.write(
        `check-release: lerna version did not do its job:\n${problems.join('\n')}\n`,
      );
      process.exit(1);
    }
    const [first] = after.values();
    process.stdout.write(
      `check-release: lerna version would release ${after.size} packages as ${first?.manifest.version}, with changelogs\n`,
    );
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join('\n');
    process.stderr.write(`check-release: ${error.message}\n${output}\n`);
    process.exit(1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
