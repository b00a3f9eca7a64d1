/**
 * `tlsErrorFor`: one classification of handshake failures for every reactor,
 * so `reason.value.code` means the same on Node (OpenSSL's reasons and Node's
 * verification codes) and on Bun (BoringSSL's). The table maps the codes the
 * engines report; anything else is TORSION_ERR_TLS_HANDSHAKE_FAILED with the
 * engine's error as `cause`.
 *
 * Tests: test/reactor-kit/tls-errors.test.ts, and the TLS section of the
 * conformance suite on every reactor
 * @module
 */
import { errorCode } from '../error-code.js';
import { TLSError, type TLSErrorCode } from '../errors.js';

const BY_ENGINE_CODE: Readonly<Record<string, TLSErrorCode>> = {
  // Certificate verification (X.509 verify results, as Node and Bun name them).
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  SELF_SIGNED_CERT_IN_CHAIN: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  CERT_UNTRUSTED: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  CERT_SIGNATURE_FAILURE: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  CERT_REJECTED: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  INVALID_CA: 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TORSION_ERR_TLS_HOSTNAME_MISMATCH',
  HOSTNAME_MISMATCH: 'TORSION_ERR_TLS_HOSTNAME_MISMATCH',
  CERT_HAS_EXPIRED: 'TORSION_ERR_TLS_CERTIFICATE_EXPIRED',
  CERT_NOT_YET_VALID: 'TORSION_ERR_TLS_CERTIFICATE_EXPIRED',
  // Alerts the peer sent about our certificate.
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
  // Client certificates.
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
  // BoringSSL (Bun) names the same TLS 1.3 alert without the 3.
  ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED: 'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'TORSION_ERR_TLS_HANDSHAKE_FAILED',
  // Versions.
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'TORSION_ERR_TLS_PROTOCOL_VERSION',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'TORSION_ERR_TLS_PROTOCOL_VERSION',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'TORSION_ERR_TLS_PROTOCOL_VERSION',
  ERR_SSL_UNSUPPORTED_PROTOCOL_VERSION: 'TORSION_ERR_TLS_PROTOCOL_VERSION',
  // ALPN.
  ERR_SSL_NO_APPLICATION_PROTOCOL: 'TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL',
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: 'TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL',
  // Not TLS at all.
  ERR_SSL_WRONG_VERSION_NUMBER: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_HTTP_REQUEST: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_HTTPS_PROXY_REQUEST: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_UNKNOWN_PROTOCOL: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_RECORD_LENGTH_MISMATCH: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_UNEXPECTED_MESSAGE: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_UNEXPECTED_RECORD: 'TORSION_ERR_TLS_NOT_TLS',
  ERR_SSL_WRONG_VERSION: 'TORSION_ERR_TLS_NOT_TLS',
  // The connection went away mid-handshake.
  ECONNRESET: 'TORSION_ERR_TLS_CONNECTION_CLOSED',
  EPIPE: 'TORSION_ERR_TLS_CONNECTION_CLOSED',
  ERR_SSL_UNEXPECTED_EOF_WHILE_READING: 'TORSION_ERR_TLS_CONNECTION_CLOSED',
};

const DESCRIPTION: Readonly<Record<TLSErrorCode, string>> = {
  TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED: "the peer's certificate is not signed by a trusted CA",
  TORSION_ERR_TLS_HOSTNAME_MISMATCH:
    "the peer's certificate is not valid for the name connected to",
  TORSION_ERR_TLS_CERTIFICATE_EXPIRED: "the peer's certificate has expired or is not valid yet",
  TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER: 'the peer refused our certificate',
  TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED: 'a client certificate was required and not given',
  TORSION_ERR_TLS_PROTOCOL_VERSION: 'no TLS version both sides accept',
  TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL: 'no ALPN protocol both sides accept',
  TORSION_ERR_TLS_NOT_TLS: 'the peer does not speak TLS',
  TORSION_ERR_TLS_HANDSHAKE_TIMEOUT: 'the handshake did not finish in time',
  TORSION_ERR_TLS_CONNECTION_CLOSED: 'the connection closed during the handshake',
  TORSION_ERR_TLS_HANDSHAKE_FAILED: 'the handshake failed',
};

/**
 * The {@link TLSErrorCode} for an engine's error code, or `undefined` when
 * the code is not a known handshake failure.
 */
export function tlsErrorCodeFor(engineCode: string | undefined): TLSErrorCode | undefined {
  if (engineCode === undefined) return undefined;
  const known = BY_ENGINE_CODE[engineCode];
  if (known !== undefined) return known;
  // Bun and some OpenSSL builds prefix the same reasons differently.
  if (/ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_)/.test(engineCode)) {
    return 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER';
  }
  if (engineCode.includes('CERTIFICATE_REQUIRED'))
    return 'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED';
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/.test(engineCode)) {
    return 'TORSION_ERR_TLS_PROTOCOL_VERSION';
  }
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|PACKET_LENGTH_TOO_LONG/.test(engineCode)) {
    return 'TORSION_ERR_TLS_NOT_TLS';
  }
  return undefined;
}

/**
 * A {@link TLSError} for a handshake that failed with `err` (an engine error,
 * or any other error while the handshake ran).
 * @param peer - the other end, for the message (`"example.com:443"`).
 */
export function tlsErrorFor(err: unknown, peer: string): TLSError {
  if (err instanceof TLSError) return err;
  const engineCode = errorCode(err);
  const code = tlsErrorCodeFor(engineCode) ?? 'TORSION_ERR_TLS_HANDSHAKE_FAILED';
  const detail = err instanceof Error ? err.message : String(err);
  return new TLSError(code, `TLS handshake with ${peer} failed: ${DESCRIPTION[code]} (${detail})`, {
    cause: err,
  });
}

/** The error for a handshake that took longer than `seconds`. */
export function tlsHandshakeTimeout(peer: string, seconds: number): TLSError {
  return new TLSError(
    'TORSION_ERR_TLS_HANDSHAKE_TIMEOUT',
    `TLS handshake with ${peer} failed: ${DESCRIPTION.TORSION_ERR_TLS_HANDSHAKE_TIMEOUT} (${seconds} s)`,
  );
}

/** The error for a connection that closed (cleanly or not) before its handshake finished. */
export function tlsClosedDuringHandshake(peer: string, cause?: unknown): TLSError {
  return new TLSError(
    'TORSION_ERR_TLS_CONNECTION_CLOSED',
    `TLS handshake with ${peer} failed: ${DESCRIPTION.TORSION_ERR_TLS_CONNECTION_CLOSED}`,
    cause === undefined ? undefined : { cause },
  );
}
