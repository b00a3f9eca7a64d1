/**
 * `@torsion/threads`: worker threads for Torsion, as Twisted's thread pool.
 * `deferToThread` runs a module's export in a worker and fires a Deferred on
 * the reactor; `callInThread` does the same and forgets it; `callFromThread`
 * hands work from a worker back to the reactor. The pool stops with the
 * reactor.
 * @module
 */
export * from './call-from-thread.js';
export * from './default-pool.js';
export * from './errors.js';
export type { ModulePath } from './module-path.js';
export * from './thread-pool.js';
