/**
 * `@torsion/policies`: wrappers that put a policy around any factory's
 * connections — idle timeouts, connection limits and rates, bandwidth
 * throttling — in the manner of Twisted's `twisted.protocols.policies`.
 *
 * Tests: test/protocol-wrapper.test.ts, test/timeout.test.ts, test/connection-limits.test.ts,
 * test/throttling.test.ts, test/refusal.test.ts
 * @module
 */
export { ProtocolWrapper, type IWrapperRegistry } from './protocol-wrapper.js';
export { WrappingFactory } from './wrapping-factory.js';
export {
  DEFAULT_ABORT_GRACE,
  TimeoutFactory,
  TimeoutHelper,
  TimeoutMixin,
  TimeoutProtocol,
  type TimeoutBase,
  type TimeoutBaseClass,
  type TimeoutFactoryOptions,
  type TimeoutMembers,
} from './timeout.js';
export {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  PeerCountedProtocol,
  RateLimitConnectionsByPeer,
  peerKey,
  type RateLimitOptions,
} from './connection-limits.js';
export {
  checkOnRefused,
  notifyRefused,
  type OnRefused,
  type RefusalEvent,
  type RefusalOptions,
} from './refusal.js';
export { ThrottlingFactory, ThrottlingProtocol, type ThrottlingOptions } from './throttling.js';
