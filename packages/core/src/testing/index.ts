/**
 * `@torsion/core/testing`: test doubles for protocols, factories and code that
 * uses a reactor, in the style of Twisted's `twisted.internet.testing`.
 * No dependency beyond Node built-ins and `@torsion/core` itself, so they work
 * under any test runner.
 *
 * Tests: test/testing/*.test.ts
 * @module
 */
export * from './string-transport.js';
export * from './log-capture.js';
export * from './chunkers.js';
export * from './io-pump.js';
export * from './memory-reactor.js';
export { Clock } from '../clock.js';
