/**
 * `isDrainable`: whether a protocol implements {@link IDrainableProtocol},
 * the hook a draining server calls on every live connection.
 *
 * Tests: test/drainable.test.ts
 * @module
 */
import type { IDrainableProtocol } from './interfaces.js';

/** Whether `protocol` has a `serverDraining(deadline)` method. */
export function isDrainable(protocol: object): protocol is IDrainableProtocol {
  return typeof (protocol as Partial<IDrainableProtocol>).serverDraining === 'function';
}
