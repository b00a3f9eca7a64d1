/**
 * `@torsion/runner`: the `torsion` command (like Twisted's `twist`) and the
 * pieces it is built from, for programs that start services themselves.
 * @module
 */
export * from './client-endpoint.js';
export * from './connect-endpoint.js';
export * from './endpoint.js';
export * from './plugins.js';
export * from './reactors.js';
export * from './run.js';
export * from './tls-files.js';
