/**
 * `@torsion/core`: reactor, TCP transports, Protocol/Factory, Deferred and time.
 * Test doubles are in `@torsion/core/testing`.
 * @module
 */
export * from './address.js';
export * from './errors.js';
export * from './factory.js';
export * from './failure.js';
export type * from './interfaces.js';
export * from './log.js';
export * from './protocol.js';
