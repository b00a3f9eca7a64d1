// Every source file's header names its tests (`Tests: test/x.test.ts, …`, as
// Twisted's `test-case-name`); this checks that each path named there exists,
// so a renamed or deleted test cannot leave a header pointing at nothing.
// Paths starting with `test/` are relative to the package, `packages/` and
// `examples/` to the repository; `*` matches within one path segment.
//
//   node scripts/check-test-pointers.mjs     (part of `npm run check`)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every `.ts` file under `dir`, recursively. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The text of the `Tests:` paragraph of `text`'s first comment, or null. */
export function testsParagraph(text) {
  const header = /^(?:#![^\n]*\n)?\s*\/\*\*?([\s\S]*?)\*\//.exec(text)?.[1];
  if (header === undefined) return null;
  const lines = header.split('\n').map((line) => line.replace(/^\s*\*\s?/, ''));
  const start = lines.findIndex((line) => line.startsWith('Tests:'));
  if (start === -1) return null;
  const paragraph = [lines[start].slice('Tests:'.length)];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.startsWith('@')) break;
    paragraph.push(line);
  }
  return paragraph.join(' ');
}

/** The paths a `Tests:` paragraph names: words that start with test/, packages/ or examples/. */
export function namedPaths(paragraph) {
  return [...paragraph.matchAll(/(?<![\w/.-])((?:test|packages|examples)\/[\w./*-]*[\w*])/g)].map(
    (match) => match[1],
  );
}

/** True if `path` (relative to `base`, `*` matching within a segment) names something that exists. */
function exists(base, path) {
  const segments = path.split('/');
  let candidates = [base];
  for (const segment of segments) {
    const pattern = new RegExp(
      `^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`,
    );
    candidates = candidates.flatMap((dir) => {
      if (!segment.includes('*')) return existsSync(join(dir, segment)) ? [join(dir, segment)] : [];
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
      return readdirSync(dir)
        .filter((name) => pattern.test(name))
        .map((name) => join(dir, name));
    });
  }
  return candidates.length > 0;
}

function main() {
  const broken = [];
  let checked = 0;
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    if (!existsSync(src)) continue;
    for (const file of sources(src)) {
      const paragraph = testsParagraph(readFileSync(file, 'utf8'));
      if (paragraph === null) continue;
      for (const path of namedPaths(paragraph)) {
        checked += 1;
        const base = path.startsWith('test/') ? join(root, 'packages', pkg) : root;
        if (!exists(base, path))
          broken.push(`${relative(root, file)}: Tests: ${path} does not exist`);
      }
    }
  }
  if (broken.length > 0) {
    process.stderr.write(`${broken.join('\n')}\n${broken.length} broken Tests: pointer(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`check-test-pointers: ${checked} Tests: pointers, all present\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
