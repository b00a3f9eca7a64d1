/**
 * `@torsion/runner`: the `torsion` command (like Twisted's `twist`) and the
 * pieces it is built from, for programs that start services themselves.
 * Endpoint strings are @torsion/core's (`serverFromString`; docs/endpoints.md).
 * @module
 */
export * from './plugins.js';
export * from './reactors.js';
export * from './run.js';
export * from './workers/restart-policy.js';
