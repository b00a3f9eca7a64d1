/**
 * `isHalfCloseable`: whether a protocol wants each direction of its connection
 * closed separately, as Twisted asks `IHalfCloseableProtocol(protocol, None)`.
 * Every transport decides with it what the peer's FIN means, so they cannot
 * disagree.
 *
 * Tests: test/half-closeable.test.ts, test/tcp-half-close.integration.test.ts,
 * and the half-close part of the conformance suite (@torsion/reactor-conformance)
 * @module
 */
import type { IHalfCloseableProtocol } from './interfaces.js';

/**
 * Whether `protocol` implements {@link IHalfCloseableProtocol}: it has both
 * `readConnectionLost()` and `writeConnectionLost()`.
 *
 * @remarks A half-closeable protocol hears the peer's FIN as
 * `readConnectionLost()` and may go on writing; for any other protocol the
 * peer's FIN ends the connection once what it wrote is flushed.
 */
export function isHalfCloseable(protocol: object): protocol is IHalfCloseableProtocol {
  const candidate = protocol as Partial<IHalfCloseableProtocol>;
  return (
    typeof candidate.readConnectionLost === 'function' &&
    typeof candidate.writeConnectionLost === 'function'
  );
}
