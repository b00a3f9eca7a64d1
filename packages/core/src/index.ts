/**
 * `@torsion/core`: reactor, TCP transports, Protocol/Factory, Deferred and time.
 * Test doubles are in `@torsion/core/testing`; what a reactor author builds
 * on is in `@torsion/core/reactor-kit`.
 * @module
 */
export * from './address.js';
export * from './clock.js';
export * from './datagram-protocol.js';
export * from './default-reactor.js';
export * from './defer-later.js';
export * from './deferred.js';
export * from './deferred-list.js';
export * from './describe-type.js';
export * from './drainable.js';
export * from './endpoints/index.js';
export * from './error-code.js';
export * from './errors.js';
export { DelayedCall, type DelayedFunction } from './delayed-call.js';
export * from './factory.js';
export * from './half-closeable.js';
export * from './failure.js';
export type * from './interfaces.js';
export * from './is-thenable.js';
export type * from './service-maker.js';
export * from './log.js';
export * from './looping-call.js';
export * from './node-reactor.js';
export * from './protocol.js';
export * from './process/index.js';
export * from './read-bounded-file.js';
export * from './reconnecting-client-factory.js';
export * from './stdio/pipe-address.js';
export * from './stdio/standard-io.js';
export * from './tls-options.js';
