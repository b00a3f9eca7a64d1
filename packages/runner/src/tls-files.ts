/**
 * The I/O half of TLS endpoints: serverTLSOptionsFor() reads the files a
 * parsed `ssl:` {@link SSLServerEndpoint} names (resolved from the runner's
 * working directory) into `ServerTLSOptions`, which checks that the key
 * belongs to the certificate; clientTLSOptionsFor() does the same for a
 * `tls:` client endpoint. The parsers stay free of I/O.
 *
 * Tests: test/tls-files.test.ts
 * @module
 */
import {
  optionsForClientTLS,
  serverTLSOptions,
  TorsionError,
  type ClientTLSOptions,
  type ServerTLSOptions,
} from '@torsion/core';
import { resolve } from 'node:path';
import { formatClientEndpoint, type TLSClientEndpoint } from './client-endpoint.js';
import { formatServerEndpoint, type SSLServerEndpoint } from './endpoint.js';

/** An `ssl:` endpoint whose key, certificate or CA files cannot be used; the message names the file and why. */
export class CertificateFilesError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_CERTIFICATE_FILES';
}

/**
 * The reason in an error from `serverTLSOptions()`, without its function
 * name: the user wrote an endpoint, not that call.
 * @internal
 */
export function certificateProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^(serverTLSOptions|optionsForClientTLS): /, '');
}

/**
 * Reads the files of `endpoint` (relative paths from `cwd`) into TLS server
 * options. `reload()` on the result reads the same files again.
 * @throws CertificateFilesError naming the endpoint and the file that is
 *   missing, unreadable, not PEM, or whose key does not match its certificate.
 */
export function serverTLSOptionsFor(endpoint: SSLServerEndpoint, cwd: string): ServerTLSOptions {
  const file = (path: string): string => resolve(cwd, path);
  try {
    return serverTLSOptions({
      keyFile: file(endpoint.privateKey),
      certFile: file(endpoint.certKey),
      ...(endpoint.extraCertChain === null ? {} : { chainFile: file(endpoint.extraCertChain) }),
      ...(endpoint.caCerts === null ? {} : { trustRootFile: file(endpoint.caCerts) }),
      clientCertificates: endpoint.clientCertificates,
      alpnProtocols: endpoint.alpn,
      minVersion: endpoint.minVersion,
    });
  } catch (err) {
    throw new CertificateFilesError(
      `${formatServerEndpoint(endpoint)}: cannot use the certificate files: ${certificateProblem(err)}`,
      { cause: err },
    );
  }
}

/**
 * Reads the files of a `tls:` client endpoint (relative paths from `cwd`)
 * into client options that verify the server as `endpoint.host`.
 * @throws CertificateFilesError naming the endpoint and the file that cannot be used.
 */
export function clientTLSOptionsFor(endpoint: TLSClientEndpoint, cwd: string): ClientTLSOptions {
  const file = (path: string): string => resolve(cwd, path);
  try {
    return optionsForClientTLS(endpoint.host, {
      ...(endpoint.caCerts === null ? {} : { trustRootFile: file(endpoint.caCerts) }),
      ...(endpoint.certificate === null
        ? {}
        : {
            clientCertificate: {
              certFile: file(endpoint.certificate),
              keyFile: file(endpoint.privateKey ?? endpoint.certificate),
            },
          }),
      alpnProtocols: endpoint.alpn,
      minVersion: endpoint.minVersion,
    });
  } catch (err) {
    throw new CertificateFilesError(
      `${formatClientEndpoint(endpoint)}: cannot use the certificate files: ${certificateProblem(err)}`,
      { cause: err },
    );
  }
}
