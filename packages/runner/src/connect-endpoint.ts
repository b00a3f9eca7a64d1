/**
 * Connecting to a parsed client endpoint (Twisted's `clientFromString(…)
 * .connect(factory)`, in one call): `tcp:` through `connectTCP`, `tls:`
 * through `connectSSL` with options read from the endpoint's files, which
 * verify the server's certificate and host name. A client command that takes
 * an endpoint string (`--connect tls:example.com:8443`) needs only
 * parseClientEndpoint() and this.
 *
 * Tests: test/connect-endpoint.integration.test.ts
 * @module
 */
import type {
  ConnectTCPOptions,
  IClientFactory,
  IConnector,
  IReactor,
  IReactorSSL,
} from '@torsion/core';
import { formatClientEndpoint, type ClientEndpoint } from './client-endpoint.js';
import { EndpointError } from './endpoint.js';
import { clientTLSOptionsFor } from './tls-files.js';

/** True when `reactor` can connect over TLS (implements IReactorSSL). */
function canConnectSSL(reactor: IReactor): reactor is IReactor & IReactorSSL {
  return typeof (reactor as Partial<IReactorSSL>).connectSSL === 'function';
}

/**
 * Connects `factory` to `endpoint` on `reactor`; relative file paths of a
 * `tls:` endpoint are read from `cwd`. Failures to connect (refused, timed
 * out, a TLS handshake that fails verification) reach
 * `factory.clientConnectionFailed`, as with `connectTCP`/`connectSSL`.
 * @throws CertificateFilesError if a `tls:` endpoint's file cannot be used.
 * @throws EndpointError if the endpoint is `tls:` and the reactor has no `connectSSL`.
 */
export function connectEndpoint(
  reactor: IReactor,
  endpoint: ClientEndpoint,
  factory: IClientFactory,
  cwd: string = process.cwd(),
): IConnector {
  const options: ConnectTCPOptions = {
    timeout: endpoint.timeout,
    ...(endpoint.bindAddress === null ? {} : { bindAddress: { host: endpoint.bindAddress } }),
  };
  if (endpoint.type === 'tcp') {
    return reactor.connectTCP(endpoint.host, endpoint.port, factory, options);
  }
  if (!canConnectSSL(reactor)) {
    const name = (reactor as { constructor?: { name?: unknown } }).constructor?.name;
    throw new EndpointError(
      `reactor ${typeof name === 'string' && name !== '' ? name : '(unnamed)'} cannot connect to ${formatClientEndpoint(endpoint)}: it does not implement connectSSL (IReactorSSL)`,
    );
  }
  const tls = clientTLSOptionsFor(endpoint, cwd);
  return reactor.connectSSL(endpoint.host, endpoint.port, factory, tls, options);
}
