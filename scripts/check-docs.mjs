// Every ```ts block in docs/ is type-checked, and the ones marked runnable are
// run, so the documentation cannot drift from the API. Each block becomes one
// module in build/doc-check/ (inside the repository, so `@torsion/*` resolves
// through the workspace links to the built packages, as a user's import
// would), and one `tsc` run checks them all under the repository's strict
// settings, with node and mocha types (examples may be tests).
//
// Markers, in an HTML comment on the line(s) just before a block:
//   <!-- doc-check: skip (why) -->  not checked: a fragment that cannot stand alone
//   <!-- doc-check: continue -->    appended to the page's previous checked block
//                                   (a step that uses what an earlier block defined);
//                                   repeated imports are merged
//   <!-- doc-check: run -->         also run with node (after the build), 20 s at most;
//                                   with the blocks that continue it
//   <!-- doc-check: file src/x.ts --> written as that file, for the page's other
//                                   blocks to import (`../src/x.js`); they sit in test/,
//                                   one folder per page
// A fence written ```ts no-check is skipped too, and so is a listing
// (`<!-- listing: examples/… -->`): the file it shows verbatim is compiled by
// `tsc -b` and its sameness checked by examples/test/finger-tutorial.test.ts.
//
//   node scripts/check-docs.mjs [docs/page.md…]   (all pages by default; part of
//                                                  `npm run check`, after `tsc -b`)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build', 'doc-check');
const RUN_TIMEOUT_MS = 20_000;

/** Every Markdown page under docs/, except the generated API reference. */
function pages(dir = join(root, 'docs')) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'api' ? [] : pages(path);
      return name.endsWith('.md') ? [path] : [];
    });
}

/** The ```ts blocks of `text`: { line (1-based, first code line), code, mode }. */
export function tsBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```ts(?:\s+(.*))?$/.exec(lines[i]);
    if (fence === null) continue;
    const indent = fence[1].length;
    const end = lines.findIndex((line, j) => j > i && /^\s*```\s*$/.test(line));
    if (end === -1) throw new Error(`unclosed code block at line ${i + 1}`);
    const code = lines
      .slice(i + 1, end)
      .map((line) => line.slice(Math.min(indent, /^\s*/.exec(line)[0].length)))
      .join('\n');
    // The marker: the nearest non-blank line above the fence.
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    const marker = /<!--\s*doc-check:\s*(skip|continue|run|file)\b\s*([\w./-]*)/.exec(
      lines[above] ?? '',
    );
    const listing = /<!--\s*listing:/.test(lines[above] ?? '');
    const mode =
      listing || (fence[2] ?? '').split(/\s+/).includes('no-check')
        ? 'skip'
        : (marker?.[1] ?? 'check');
    blocks.push({ line: i + 2, code, mode, runs: mode === 'run', file: marker?.[2] ?? '' });
    i = end;
  }
  return blocks;
}

const IMPORT = /^import\s+(type\s+)?\{([^}]*)\}\s+from\s+(['"][^'"]+['"]);\s*$/;

/** `later` appended to `earlier`, dropping imports `earlier` already has and merging named ones. */
function join2(earlier, later) {
  const lines = earlier.split('\n');
  const kept = [];
  for (const line of later.split('\n')) {
    if (lines.includes(line) && /^import\s/.test(line)) continue;
    const match = IMPORT.exec(line);
    if (match !== null) {
      const index = lines.findIndex((l) => {
        const m = IMPORT.exec(l);
        return m !== null && m[3] === match[3] && (m[1] ?? '') === (match[1] ?? '');
      });
      if (index !== -1) {
        const have = IMPORT.exec(lines[index]);
        const names = new Set(
          [...have[2].split(','), ...match[2].split(',')].map((n) => n.trim()).filter(Boolean),
        );
        lines[index] = `import ${have[1] ?? ''}{ ${[...names].join(', ')} } from ${have[3]};`;
        kept.push('');
        continue;
      }
    }
    kept.push(line);
  }
  return { code: `${lines.join('\n')}\n${kept.join('\n')}`, offset: lines.length + 1 };
}

function main() {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  /** Module path in outDir → { name, code, runs, spans: [{ page, line, from }] }. */
  const files = new Map();
  let skipped = 0;
  const only = process.argv.slice(2).map((page) => resolve(root, page));
  for (const page of only.length > 0 ? only : pages()) {
    const rel = relative(root, page);
    const slug = rel
      .replace(/^docs\//, '')
      .replace(/\.md$/, '')
      .replace(/[^\w]+/g, '-');
    let current = null;
    let count = 0;
    for (const block of tsBlocks(readFileSync(page, 'utf8'))) {
      if (block.mode === 'skip') {
        skipped++;
        continue;
      }
      if (block.mode === 'continue') {
        if (current === null) throw new Error(`${rel}:${block.line}: nothing to continue`);
        const joined = join2(current.code, block.code);
        current.spans.push({ page: rel, line: block.line, from: joined.offset });
        current.code = joined.code;
        continue;
      }
      count++;
      current = {
        name: block.mode === 'file' ? `${slug}/${block.file}` : `${slug}/test/block-${count}.ts`,
        code: block.code,
        runs: block.runs,
        spans: [{ page: rel, line: block.line, from: 1 }],
      };
      files.set(current.name, current);
    }
  }
  if (files.size === 0) {
    // A page of prose and fragments only: nothing for tsc (which fails on no inputs).
    process.stdout.write(
      `check-docs: no docs/ code modules to check; ${skipped} fragments marked skip\n`,
    );
    return;
  }
  for (const file of files.values()) {
    // `export {}` makes every block a module, so blocks do not share a scope.
    mkdirSync(dirname(join(outDir, file.name)), { recursive: true });
    writeFileSync(join(outDir, file.name), `${file.code}\nexport {};\n`);
  }
  writeFileSync(
    join(outDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        rootDir: '.',
        outDir: 'out',
        composite: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        incremental: false,
        // A block may show a variable or parameter it does not use.
        noUnusedLocals: false,
        noUnusedParameters: false,
        types: ['node', 'mocha'],
      },
      include: ['**/*.ts'],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', outDir, '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    // Point each error at the page and line it came from.
    const report = result.stdout.replace(
      /^build\/doc-check\/([\w./-]+\.ts)\((\d+),(\d+)\)/gm,
      (whole, name, line) => {
        const file = files.get(name);
        if (file === undefined) return whole;
        const span = file.spans.findLast((s) => Number(line) >= s.from) ?? file.spans[0];
        return `${span.page}:${span.line + Number(line) - span.from} (${name}:${line})`;
      },
    );
    process.stderr.write(`${report}\ncheck-docs: a docs/ code block does not type-check\n`);
    process.exit(1);
  }
  let ran = 0;
  for (const file of files.values()) {
    if (!file.runs) continue;
    const script = join(outDir, 'out', file.name.replace(/\.ts$/, '.js'));
    const run = spawnSync(process.execPath, [script], {
      cwd: outDir,
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
    });
    if (run.status !== 0) {
      const where = `${file.spans[0].page}:${file.spans[0].line}`;
      process.stderr.write(
        `check-docs: the block at ${where} (${file.name}) failed when run:\n${run.stdout}${run.stderr}${run.error?.message ?? ''}\n`,
      );
      process.exit(1);
    }
    ran++;
  }
  rmSync(outDir, { recursive: true, force: true });
  process.stdout.write(
    `check-docs: ${files.size} docs/ code modules type-check, ${ran} ran; ${skipped} fragments marked skip\n`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`check-docs: ${error instanceof Error ? error.message : error}\n`);
    process.exit(1);
  }
}
