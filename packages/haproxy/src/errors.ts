/**
 * Errors of the PROXY protocol. Each has a stable `code`, as every
 * {@link TorsionError} does.
 *
 * Tests: test/errors.test.ts
 * @module
 */
import { TorsionError } from '@torsion/core';

/**
 * The bytes a connection started with are not a PROXY protocol header (v1 or
 * v2), or the header is longer than allowed, or its CRC32C does not match.
 * The message names the field that is wrong.
 */
export class ProxyHeaderError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PROXY_HEADER';
}

/**
 * A connection did not finish sending its PROXY header within the wrapper's
 * `headerTimeout`.
 */
export class ProxyHeaderTimeoutError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PROXY_HEADER_TIMEOUT';
}

/**
 * A connection came from an address outside the wrapper's `trustedProxies`,
 * so its PROXY header (if any) would not be believed: it is refused.
 */
export class UntrustedProxyError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_UNTRUSTED_PROXY';
}
