/**
 * `buildProtocolSafely`: how every port and connector asks a factory for the
 * protocol of a new connection. A factory that throws is logged and costs
 * only that connection; one that returns `null` (or, in plain JavaScript,
 * `undefined`) refuses it. The caller decides what each outcome does to the
 * connection: a port closes it, a connector still attaches a do-nothing
 * protocol so its factory hears `clientConnectionLost`.
 *
 * Tests: test/tcp.integration.test.ts, test/testing/simulated/simulated-reactor.test.ts,
 * and the fault-isolation part of the conformance suite (@torsion/reactor-conformance)
 * @module
 */
import type { IAddress } from '../address.js';
import type { IProtocol, IProtocolFactory } from '../interfaces.js';
import { THREW } from './call-safely.js';
import { describeType } from '../describe-type.js';
import type { Logger } from '../log.js';

/**
 * Calls `factory.buildProtocol(addr)`.
 *
 * @param log - where an exception is reported, with the peer's address.
 * @param factory - the port's or connector's factory.
 * @param addr - the peer's address, as `buildProtocol` expects.
 * @returns the protocol; `null` if the factory refused the connection;
 *   {@link THREW} if it threw (already logged).
 */
export function buildProtocolSafely(
  log: Logger,
  factory: IProtocolFactory,
  addr: IAddress,
): IProtocol | null | typeof THREW {
  // Not callMethodSafely: its message and fields would be built for every
  // connection, and this runs once per accept; they are built on failure only.
  try {
    // `?? null`: a factory written in plain JavaScript may return undefined.
    return factory.buildProtocol(addr) ?? null;
  } catch (err) {
    log.failure(
      `Unhandled error in ${describeType(factory)}.buildProtocol; connection closed`,
      err,
      { peer: addr.toString() },
    );
    return THREW;
  }
}
