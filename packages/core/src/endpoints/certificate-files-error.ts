/**
 * `CertificateFilesError`: the key, certificate or CA files named by an
 * `ssl:`/`tls:` endpoint string cannot be used.
 *
 * Tests: test/endpoints/tls-files.test.ts
 * @module
 */
import { TorsionError } from '../errors.js';

/** An `ssl:` or `tls:` endpoint whose key, certificate or CA files cannot be used; the message names the file and why. */
export class CertificateFilesError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_CERTIFICATE_FILES';
}

/**
 * The reason in an error from `serverTLSOptions()`/`optionsForClientTLS()`,
 * without the function's name: the user wrote an endpoint, not that call.
 */
export function certificateProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^(serverTLSOptions|optionsForClientTLS): /, '');
}
