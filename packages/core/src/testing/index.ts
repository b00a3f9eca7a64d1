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
export * from './seeded-random.js';
export * from './simulated-connector.js';
export * from './simulated-host.js';
export * from './simulated-link.js';
export * from './simulated-network.js';
export * from './simulated-port.js';
export * from './simulated-reactor.js';
export * from './simulated-transport.js';
export * from './eventual.js';
export * from './recording-protocol.js';
export * from './echoing-protocol.js';
export * from './half-close-recording-protocol.js';
export * from './recording-factory.js';
export * from './recording-client-factory.js';
export * from './serve-on-loopback.js';
export { Clock } from '../clock.js';
