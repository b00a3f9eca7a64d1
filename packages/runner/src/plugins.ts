/**
 * Finding plugins: the built-in names (`echo`, `finger`), a module path, or a
 * package name whose `./plugin` export (or main export) default-exports an
 * IServiceMaker.
 *
 * Tests: test/plugins.test.ts
 * @module
 */
import type { IServiceMaker } from '@torsion/core';
import { checkRegularFile, FileRefusedError, TorsionError } from '@torsion/core';
import { isAbsolute, resolve } from 'node:path';
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

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/** Checks that `value` has the shape of an IServiceMaker; returns it typed. */
export function validateServiceMaker(value: unknown, origin: string): IServiceMaker {
  const fail = (what: string): never => {
    throw new PluginError(`plugin ${origin} is not a valid Torsion plugin: ${what}`);
  };
  if (typeof value !== 'object' || value === null)
    return fail(`its default export is ${describe(value)}`);
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

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
}

/**
 * Loads a plugin by built-in name, module path (resolved from `cwd`), or
 * package name (its `./plugin` export, else its main export).
 * @throws PluginError with a message naming the plugin and what went wrong.
 */
export async function loadPlugin(spec: string, cwd: string): Promise<IServiceMaker> {
  const builtIn = BUILT_IN_PLUGINS[spec];
  if (builtIn === undefined && isPath(spec)) {
    const refused = await refuseSpecialFile(resolve(cwd, spec));
    if (refused !== null) {
      throw new PluginError(`plugin '${spec}' failed to load: ${refused.message}`, {
        cause: refused,
      });
    }
  }
  const candidates: string[] =
    builtIn !== undefined
      ? [builtIn]
      : isPath(spec)
        ? [pathToFileURL(resolve(cwd, spec)).href]
        : [`${spec}/plugin`, spec];
  let lastError: unknown = null;
  for (const candidate of candidates) {
    let exported: unknown;
    try {
      exported = await importDefault(candidate);
    } catch (err) {
      lastError = err;
      if (isModuleNotFound(err)) continue;
      const message = err instanceof Error ? err.message : String(err);
      throw new PluginError(`plugin '${spec}' failed to load: ${message}`, { cause: err });
    }
    return validateServiceMaker(exported, `'${spec}'`);
  }
  const known = Object.keys(BUILT_IN_PLUGINS).join(', ');
  throw new PluginError(
    `no plugin '${spec}': not a built-in (${known}), and no module or package by that name could be loaded`,
    { cause: lastError },
  );
}
