/**
 * The argument checks of `adoptStreamPort` (IReactorSocket), made alike by
 * every reactor that adopts inherited sockets (Node, Bun, MemoryReactor).
 *
 * Tests: test/endpoints/adopted-port.integration.test.ts, test/endpoints/systemd-endpoint.test.ts
 * @module
 */
import type { AdoptedSocketFamily, IProtocolFactory } from '../interfaces.js';

const FAMILIES: readonly unknown[] = ['INET', 'INET6', 'UNIX'];

/**
 * @throws TypeError if `fd` is not a non-negative integer, `family` is not
 *   INET, INET6 or UNIX, or `factory` has no `buildProtocol`.
 */
export function checkAdoptStreamPort(
  fd: number,
  family: AdoptedSocketFamily,
  factory: IProtocolFactory,
): void {
  if (!Number.isSafeInteger(fd) || fd < 0) {
    throw new TypeError(`adoptStreamPort: fd must be a non-negative integer, got ${String(fd)}`);
  }
  if (!FAMILIES.includes(family)) {
    throw new TypeError(`adoptStreamPort: family must be INET, INET6 or UNIX, got ${family}`);
  }
  if (typeof (factory as Partial<IProtocolFactory> | null)?.buildProtocol !== 'function') {
    throw new TypeError('adoptStreamPort: factory must have a buildProtocol method');
  }
}
