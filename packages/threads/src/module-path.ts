/**
 * The module-path rule: work for a thread is named by a module and an export,
 * never by a function (functions cannot be sent to another thread). The
 * module must be an absolute path or a file: URL, because a relative path
 * would be resolved inside the worker against Torsion's own files, not yours.
 *
 * Tests: test/module-path.test.ts
 * @module
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeType } from '@torsion/core';

/** A module for a thread: an absolute path, or a file: URL (as a `URL` or a string). */
export type ModulePath = string | URL;

/**
 * Checks a module path and returns it as a file: URL string.
 * @param caller - the API name, for the error message.
 * @throws TypeError for a relative path, a bare package name, a non-file URL,
 *   or anything that is not a string or URL.
 */
export function toModuleURL(modulePath: unknown, caller: string): string {
  if (modulePath instanceof URL) {
    if (modulePath.protocol !== 'file:') {
      throw new TypeError(
        `${caller}() takes a file: URL or an absolute path, not a ${modulePath.protocol} URL (${modulePath.href})`,
      );
    }
    return modulePath.href;
  }
  if (typeof modulePath === 'function') {
    throw new TypeError(
      `${caller}() cannot send a function to a worker thread: put it in a module and pass ` +
        `the module's URL and the export's name, e.g. ${caller}(new URL('./work.js', import.meta.url), 'work')`,
    );
  }
  if (typeof modulePath !== 'string') {
    throw new TypeError(
      `${caller}() takes a module as a file: URL or an absolute path, not ${describeType(modulePath)}`,
    );
  }
  if (modulePath.startsWith('file:')) return new URL(modulePath).href;
  if (isAbsolute(modulePath)) return pathToFileURL(modulePath).href;
  throw new TypeError(
    `${caller}() needs an absolute path or a file: URL, not ${JSON.stringify(modulePath)}: ` +
      `the worker would resolve it against Torsion's files. Use ` +
      `new URL(${JSON.stringify(modulePath)}, import.meta.url) for a file next to yours, ` +
      `or import.meta.resolve(${JSON.stringify(modulePath)}) for a package`,
  );
}

/**
 * Checks an export name.
 * @throws TypeError when it is not a non-empty string.
 */
export function checkExportName(exportName: unknown, caller: string): asserts exportName is string {
  if (typeof exportName !== 'string' || exportName === '') {
    throw new TypeError(
      `${caller}() takes the export's name as a non-empty string (use 'default' for a default export), not ${exportName === '' ? 'an empty string' : describeType(exportName)}`,
    );
  }
}
