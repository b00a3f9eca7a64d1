/**
 * Choosing the reactor the runner serves on: `--reactor node`, `--reactor
 * bun`, or a module or package of the user's whose `createReactor()` export
 * builds one. Without `--reactor`, the runtime's native reactor: BunReactor
 * under Bun (when @torsion/reactor-bun is installed), NodeReactor otherwise.
 *
 * Tests: test/reactors.test.ts, and packages/reactor-bun/test/runner.bun.test.ts under Bun
 * @module
 */
import { errorCode, Logger, NodeReactor, TorsionError, type IReactor } from '@torsion/core';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { refuseSpecialFile, resolvePackage } from './plugins.js';

/** A `--reactor` that names nothing usable. */
export class ReactorChoiceError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_REACTOR_CHOICE';
}

/** The Bun reactor's package; imported only when asked for, so the runner works without it. */
const BUN_REACTOR_PACKAGE = '@torsion/reactor-bun';

/** The reactors the runner knows by name. */
export const BUILT_IN_REACTORS: readonly string[] = ['node', 'bun'];

const log = new Logger('torsion.runner');

/** True when this process runs on Bun rather than Node. */
export function runningOnBun(): boolean {
  return (process.versions as Record<string, string | undefined>).bun !== undefined;
}

/** The reactor name used when no `--reactor` is given: the runtime's own. */
export function defaultReactorName(): string {
  return runningOnBun() ? 'bun' : 'node';
}

function isPath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.(c|m)?[jt]s$/.test(spec);
}

function isModuleNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function checkReactor(value: unknown, origin: string): IReactor {
  const reactor = value as Partial<Record<keyof IReactor, unknown>> | null;
  const missing = ['run', 'stop', 'callLater', 'seconds', 'listenTCP', 'connectTCP'].filter(
    (method) => typeof reactor?.[method as keyof IReactor] !== 'function',
  );
  if (missing.length > 0) {
    throw new ReactorChoiceError(
      `${origin} did not build a reactor (missing ${missing.join(', ')})`,
    );
  }
  return value as IReactor;
}

async function bunReactor(explicit: boolean): Promise<IReactor> {
  if (!runningOnBun()) {
    throw new ReactorChoiceError(
      "--reactor bun needs the Bun runtime: start the runner with bun (for example 'bun node_modules/.bin/torsion …')",
    );
  }
  let module: { BunReactor?: unknown };
  try {
    module = (await import(BUN_REACTOR_PACKAGE)) as { BunReactor?: unknown };
  } catch (err) {
    if (!isModuleNotFound(err)) throw err;
    if (explicit) {
      throw new ReactorChoiceError(
        `--reactor bun needs ${BUN_REACTOR_PACKAGE}: install it next to @torsion/runner`,
        { cause: err },
      );
    }
    log.info(`${BUN_REACTOR_PACKAGE} is not installed; serving on NodeReactor under Bun`);
    return new NodeReactor();
  }
  const BunReactor = module.BunReactor;
  if (typeof BunReactor !== 'function') {
    throw new ReactorChoiceError(`${BUN_REACTOR_PACKAGE} does not export BunReactor`);
  }
  return checkReactor(new (BunReactor as new () => unknown)(), BUN_REACTOR_PACKAGE);
}

/**
 * Builds the reactor named by `--reactor` (or the runtime's default when
 * `name` is undefined).
 * @param name - `node`, `bun`, a module path (resolved from `cwd`) or a
 *   package name whose `createReactor()` export returns an IReactor.
 * @throws ReactorChoiceError when the name cannot give a reactor here.
 */
export async function createReactor(name: string | undefined, cwd: string): Promise<IReactor> {
  const chosen = name ?? defaultReactorName();
  if (chosen === 'node') return new NodeReactor();
  if (chosen === 'bun') return bunReactor(name !== undefined);
  if (isPath(chosen)) {
    const refused = await refuseSpecialFile(resolve(cwd, chosen));
    if (refused !== null) {
      throw new ReactorChoiceError(`reactor '${chosen}' failed to load: ${refused.message}`, {
        cause: refused,
      });
    }
  }
  const failed = (err: unknown): ReactorChoiceError => {
    const message = err instanceof Error ? err.message : String(err);
    return new ReactorChoiceError(`reactor '${chosen}' failed to load: ${message}`, { cause: err });
  };
  // Found first, then imported: a module that exists but whose own imports
  // fail is reported with that failure, not as an unknown reactor.
  let specifier: string | null;
  if (isPath(chosen)) {
    const path = resolve(cwd, chosen);
    specifier = existsSync(path) ? pathToFileURL(path).href : null;
  } else {
    try {
      specifier = resolvePackage(chosen, cwd);
    } catch (err) {
      throw failed(err);
    }
  }
  if (specifier === null) {
    throw new ReactorChoiceError(
      `unknown reactor '${chosen}': not one of ${BUILT_IN_REACTORS.join(', ')}, and no module or package by that name`,
    );
  }
  let module: { createReactor?: unknown };
  try {
    module = (await import(specifier)) as { createReactor?: unknown };
  } catch (err) {
    throw failed(err);
  }
  if (typeof module.createReactor !== 'function') {
    throw new ReactorChoiceError(
      `reactor module '${chosen}' must export a createReactor() function`,
    );
  }
  return checkReactor((module.createReactor as () => unknown)(), `'${chosen}'.createReactor()`);
}
