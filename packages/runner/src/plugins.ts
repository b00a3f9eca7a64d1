/**
 * Finding plugins: the built-in names (`echo`, `finger`), a module path, or a
 * package name whose `./plugin` export (or main export) default-exports an
 * IServiceMaker. A package is looked for from the working directory first,
 * where the user installed it, then from the runner's own location.
 *
 * Tests: test/plugins.test.ts
 * @module
 */
import type { IServiceMaker } from '@torsion/core';
import {
  checkRegularFile,
  describeType,
  errorCode,
  FileRefusedError,
  TorsionError,
} from '@torsion/core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A plugin that cannot be loaded or is not a valid IServiceMaker. */
export class PluginError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PLUGIN';
}

/** The plugins that come with the runner, by command name. */
export const BUILT_IN_PLUGINS: Readonly<Record<string, string>> = {
  echo: '@torsion/echo/plugin',
  finger: '@torsion/finger/plugin',
};

function isPath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.(c|m)?js$/.test(spec);
}

/** Checks that `value` has the shape of an IServiceMaker; returns it typed. */
export function validateServiceMaker(value: unknown, origin: string): IServiceMaker {
  const fail = (what: string): never => {
    throw new PluginError(`plugin ${origin} is not a valid Torsion plugin: ${what}`);
  };
  if (typeof value !== 'object' || value === null)
    return fail(`its default export is ${describeType(value)}`);
  const maker = value as Partial<Record<keyof IServiceMaker, unknown>>;
  if (typeof maker.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(maker.name)) {
    fail('`name` must be lowercase letters, digits and dashes');
  }
  if (typeof maker.description !== 'string') fail('`description` must be a string');
  if (
    !Array.isArray(maker.defaultListen) ||
    !maker.defaultListen.every((e) => typeof e === 'string')
  ) {
    fail('`defaultListen` must be an array of endpoint strings');
  }
  if (typeof maker.options !== 'object' || maker.options === null)
    fail('`options` must be an object');
  // Plugins may be plain JavaScript: check what the types cannot promise.
  for (const [name, option] of Object.entries(
    maker.options as Record<string, { type?: unknown }>,
  )) {
    if (option.type !== 'string' && option.type !== 'boolean') {
      fail(`option '${name}' must have type 'string' or 'boolean'`);
    }
  }
  if (typeof maker.makeFactory !== 'function') fail('`makeFactory` must be a function');
  return value as IServiceMaker;
}

async function importDefault(specifier: string): Promise<unknown> {
  const module = (await import(specifier)) as { default?: unknown };
  return module.default;
}

/**
 * Refuses a plugin path that names a FIFO, a device or a directory before
 * `import()` reads it: Node's loader would wait forever for a FIFO's writer,
 * or read `/dev/zero` until memory runs out. Any other problem (a missing
 * file) is left to `import()`, whose error the caller already reports.
 * @internal
 */
export async function refuseSpecialFile(path: string): Promise<FileRefusedError | null> {
  try {
    await checkRegularFile(path);
    return null;
  } catch (err) {
    if (err instanceof FileRefusedError) return err;
    return null;
  }
}

/** Codes of a failed resolution: the specifier names no module (or no such export). */
const NOT_FOUND_CODES: readonly unknown[] = ['MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED'];

function isNotFound(err: unknown): boolean {
  return NOT_FOUND_CODES.includes(errorCode(err));
}

function loadFailed(spec: string, err: unknown): PluginError {
  const message = err instanceof Error ? err.message : String(err);
  return new PluginError(`plugin '${spec}' failed to load: ${message}`, { cause: err });
}

/**
 * The URL of package specifier `specifier`, looked for from `cwd` first (as
 * from a module there: a user installs plugins in their project, as Twisted's
 * `twist` finds plugins on the user's path), then from the runner's own
 * location; `null` when neither has it.
 *
 * Node 20 cannot resolve an ES module import from another directory without
 * a flag (`import.meta.resolve`'s parent argument needs
 * --experimental-import-meta-resolve), so both look-ups use Node's CommonJS
 * resolver, which honours `exports` with its `node`, `require` and `default`
 * conditions.
 * @throws what the resolver throws for a broken package (not for a missing one).
 * @internal
 */
export function resolvePackage(specifier: string, cwd: string): string | null {
  for (const from of [join(cwd, 'noop.js'), import.meta.url]) {
    try {
      return pathToFileURL(createRequire(from).resolve(specifier)).href;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return null;
}

/**
 * Loads a plugin by built-in name, module path (resolved from `cwd`), or
 * package name (its `./plugin` export, else its main export; looked for from
 * `cwd`, then from the runner's location).
 * @throws PluginError with a message naming the plugin and what went wrong:
 *   "no plugin" only when the plugin itself is missing; when a module that
 *   the plugin imports is missing, or its code throws, that error.
 */
export async function loadPlugin(spec: string, cwd: string): Promise<IServiceMaker> {
  const builtIn = BUILT_IN_PLUGINS[spec];
  let url: string | null = null;
  if (builtIn !== undefined) {
    url = builtIn;
  } else if (isPath(spec)) {
    const path = resolve(cwd, spec);
    const refused = await refuseSpecialFile(path);
    if (refused !== null) throw loadFailed(spec, refused);
    if (existsSync(path)) url = pathToFileURL(path).href;
  } else {
    try {
      url = resolvePackage(`${spec}/plugin`, cwd) ?? resolvePackage(spec, cwd);
    } catch (err) {
      throw loadFailed(spec, err);
    }
  }
  if (url === null) {
    const known = Object.keys(BUILT_IN_PLUGINS).join(', ');
    throw new PluginError(
      `no plugin '${spec}': not a built-in (${known}), and no module or package by that name could be found`,
    );
  }
  let exported: unknown;
  try {
    exported = await importDefault(url);
  } catch (err) {
    // Resolved, so whatever went wrong is inside the plugin (a module it
    // imports is missing, its code threw): say that, not "no plugin".
    throw loadFailed(spec, err);
  }
  return validateServiceMaker(exported, `'${spec}'`);
}
