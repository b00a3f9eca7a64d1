/**
 * `connectProtocol(endpoint, protocol)`: connects one protocol instance
 * through a client endpoint, without writing a factory (Twisted's function
 * of the same name).
 *
 * Tests: test/endpoints/tcp-client-endpoint.test.ts
 * @module
 */
import type { Deferred } from '../deferred.js';
import type { IProtocol, IStreamClientEndpoint } from '../interfaces.js';

/**
 * Connects `protocol` through `endpoint`; fires with it once connected, or
 * fails as `endpoint.connect()` does. The protocol is used for the first
 * connection only.
 */
export function connectProtocol<P extends IProtocol>(
  endpoint: IStreamClientEndpoint,
  protocol: P,
): Deferred<P> {
  let used = false;
  return endpoint.connect<P>({
    buildProtocol: () => {
      if (used) return null;
      used = true;
      return protocol;
    },
    doStart: () => {},
    doStop: () => {},
  });
}
