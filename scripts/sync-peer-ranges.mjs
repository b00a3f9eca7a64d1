// `lerna version` raises the ranges of sibling dependencies and devDependencies
// but leaves peerDependencies alone, so after a bump that a caret range does
// not cover (0.1.x → 0.2.0, 1.x → 2.0.0) a package would still ask for the old
// @torsion/core. This raises every @torsion/* peer range that no longer covers
// the sibling's version to `^<version>`, in the manifest and in the lockfile's
// record of the workspace (which `npm ci` checks against the manifest), and
// stages the files it changes.
// Ranges that still cover it are left alone, so a patch release does not make
// users upgrade core. Run by lerna as the root `version` lifecycle script
// (after the bump, before the release commit).
//
//   node scripts/sync-peer-ranges.mjs [--no-stage]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** True if the caret range `^a.b.c` (the only form used here) covers `version`. */
export function caretCovers(range, version) {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const parsed = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (match === null || parsed === null) return false;
  const [low, v] = [match.slice(1).map(Number), parsed.slice(1).map(Number)];
  const atLeast =
    v[0] > low[0] || (v[0] === low[0] && (v[1] > low[1] || (v[1] === low[1] && v[2] >= low[2])));
  if (!atLeast) return false;
  if (low[0] > 0) return v[0] === low[0];
  if (low[1] > 0) return v[0] === 0 && v[1] === low[1];
  return v[0] === 0 && v[1] === 0 && v[2] === low[2];
}

/** Rewrites the packages' manifests; returns the paths it changed. */
export function syncPeerRanges(repoRoot) {
  const manifests = readdirSync(join(repoRoot, 'packages'))
    .map((dir) => join(repoRoot, 'packages', dir, 'package.json'))
    .filter((path) => existsSync(path));
  const versions = new Map(
    manifests.map((path) => {
      const manifest = JSON.parse(readFileSync(path, 'utf8'));
      return [manifest.name, manifest.version];
    }),
  );
  const changed = [];
  const lockPath = join(repoRoot, 'package-lock.json');
  const lockText = existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null;
  const lock = lockText === null ? null : JSON.parse(lockText);
  for (const path of manifests) {
    const text = readFileSync(path, 'utf8');
    const manifest = JSON.parse(text);
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      const version = versions.get(name);
      if (version === undefined || caretCovers(range, version)) continue;
      manifest.peerDependencies[name] = `^${version}`;
      const locked = lock?.packages?.[`packages/${basename(dirname(path))}`];
      if (locked?.peerDependencies?.[name] !== undefined) {
        locked.peerDependencies[name] = `^${version}`;
      }
    }
    const updated = `${JSON.stringify(manifest, null, 2)}\n`;
    if (updated !== text) {
      writeFileSync(path, updated);
      changed.push(path);
    }
  }
  if (lock !== null) {
    const updated = `${JSON.stringify(lock, null, 2)}\n`;
    if (updated !== lockText) {
      writeFileSync(lockPath, updated);
      changed.push(lockPath);
    }
  }
  return changed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const changed = syncPeerRanges(root);
  if (changed.length > 0 && !process.argv.includes('--no-stage')) {
    execFileSync('git', ['add', '--', ...changed], { cwd: root, stdio: 'inherit' });
  }
  process.stdout.write(`sync-peer-ranges: ${changed.length} manifest(s) updated\n`);
}
