/**
 * How threads import the modules they are given: `import()`, with two
 * fallbacks for programs whose sources run under a TypeScript loader (tsx,
 * ts-node) — tests and development — so that the same
 * `new URL('./work.js', import.meta.url)` works there and compiled:
 *
 * - a missing `.js` (`.mjs`, `.cjs`) file with a `.ts` (`.mts`, `.cts`) file
 *   next to it imports that instead, as those loaders do for imports written
 *   in `.ts` files;
 * - a `.ts` file that `import()` cannot load (on Node 20 a loader's ESM
 *   hooks do not reach worker threads, though its `require` hook, inherited
 *   with the `--import` flag, does) is loaded with `require`.
 *
 * A compiled program never takes either path: its `.js` files exist.
 *
 * Tests: test/examples.test.ts (the example's modules are `.ts` under tsx)
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errorCode } from '@torsion/core';

const TS_SIBLING: Readonly<Record<string, string>> = {
  '.js': '.ts',
  '.mjs': '.mts',
  '.cjs': '.cts',
};

type Namespace = Record<string, unknown>;

function tsSibling(module: string): string | null {
  const url = new URL(module);
  const ext = /\.[mc]?js$/.exec(url.pathname)?.[0];
  const replacement = ext === undefined ? undefined : TS_SIBLING[ext];
  if (ext === undefined || replacement === undefined) return null;
  url.pathname = url.pathname.slice(0, -ext.length) + replacement;
  return existsSync(fileURLToPath(url)) ? url.href : null;
}

async function importTypeScript(module: string): Promise<Namespace> {
  try {
    return (await import(module)) as Namespace;
  } catch (err) {
    if (errorCode(err) !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    // Throws the loader-less "cannot load .ts" error when no loader is there either.
    return createRequire(import.meta.url)(fileURLToPath(module)) as Namespace;
  }
}

/** `import(module)`, with the TypeScript-loader fallbacks described above. */
export async function importModule(module: string): Promise<Namespace> {
  if (/\.[mc]?ts$/.test(new URL(module).pathname)) return importTypeScript(module);
  try {
    return (await import(module)) as Namespace;
  } catch (err) {
    const { url } = err as { url?: unknown };
    // Only when the module itself is missing, not one of its imports.
    if (errorCode(err) === 'ERR_MODULE_NOT_FOUND' && (url === undefined || url === module)) {
      const sibling = tsSibling(module);
      if (sibling !== null) return importTypeScript(sibling);
    }
    throw err;
  }
}
