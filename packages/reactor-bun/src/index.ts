/**
 * `@torsion/reactor-bun`: a Torsion reactor on Bun's native sockets and
 * timers. Protocols, factories and Deferreds come from `@torsion/core` and
 * run unchanged on it.
 * @module
 */
export { BunReactor, type BunReactorOptions } from './bun-reactor.js';
export { bunVersion, isBun } from './runtime.js';
