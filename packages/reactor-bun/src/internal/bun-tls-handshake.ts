/**
 * How BunReactor judges a finished TLS handshake, from what Bun's
 * `handshake(socket, success, authorizationError)` handler reports: whether
 * the connection may be handed to a protocol, or the {@link TLSError} it
 * failed with. The checks are Torsion's, the same as NodeReactor's: the
 * server's certificate must chain to the trust root and carry
 * `options.hostname` (checked here with `checkServerIdentity`, whatever
 * address was dialled); a client certificate, when one was asked for, must
 * chain to the server's trust root.
 *
 * Bun reports engine failures as `EPROTO` with BoringSSL's reason only in
 * the message (`error:…:SSL routines:OPENSSL_internal:HTTP_REQUEST`); the
 * reason is turned into the `ERR_SSL_*` code Node would give, so
 * `tlsErrorFor` classifies both engines alike.
 *
 * Tests: test/tls.bun.test.ts
 * @module
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { errorCode, TLSError } from '@torsion/core';
import type { ClientTLSOptions, ServerTLSOptions } from '@torsion/core';
import { tlsErrorFor } from '@torsion/core/reactor-kit';
import type { BunSocket } from './bun-tcp-transport.js';

/** X.509 verification results: the handshake itself succeeded; the certificate is judged here. */
const VERIFY_CODE =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|INVALID_CA|HOSTNAME_MISMATCH)/;

/** Whether `err` is a certificate verification result (not a failed handshake). */
function isVerifyResult(err: Error | null): boolean {
  return err !== null && VERIFY_CODE.test(errorCode(err) ?? '');
}

/**
 * The error with BoringSSL's reason as its `code` (`ERR_SSL_<REASON>`, as
 * Node names OpenSSL's), when Bun gave only `EPROTO`; otherwise `err` itself.
 */
export function engineError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const reason = /SSL routines:[A-Za-z_]*:([A-Z0-9_]+)/.exec(err.message)?.[1];
  const code = errorCode(err);
  if (reason === undefined || (code !== undefined && code !== 'EPROTO')) return err;
  return Object.assign(new Error(err.message, { cause: err }), { code: `ERR_SSL_${reason}` });
}

/** A failed handshake (`success` false, or an engine error) as a TLSError; `null` if it completed. */
function handshakeFailure(success: boolean, err: Error | null, peer: string): TLSError | null {
  if (err !== null && !isVerifyResult(err)) return tlsErrorFor(engineError(err), peer);
  if (!success && err === null) {
    return tlsErrorFor(new Error('the TLS engine reported a failed handshake'), peer);
  }
  return null;
}

/** Whether the socket's peer sent a certificate (Bun, like Node, gives `{}` when not). */
function hasPeerCertificate(socket: BunSocket): PeerCertificate | null {
  const cert = socket.getPeerCertificate() as Partial<PeerCertificate> | null | undefined;
  return cert?.raw === undefined ? null : (cert as PeerCertificate);
}

/**
 * Judges a client's handshake: `null` if the server may be talked to, else why not.
 * @param peer - `host:port`, for the error message.
 */
export function clientHandshakeError(
  socket: BunSocket,
  options: ClientTLSOptions,
  success: boolean,
  authorizationError: Error | null,
  peer: string,
): TLSError | null {
  // Bun reports a name mismatch against its own idea of the name as
  // `success: false`; only a real engine failure counts here.
  const failed = handshakeFailure(
    success || isVerifyResult(authorizationError),
    authorizationError,
    peer,
  );
  if (failed !== null) return failed;
  if (options.insecureSkipVerify) return null;
  if (
    authorizationError !== null &&
    errorCode(authorizationError) !== 'ERR_TLS_CERT_ALTNAME_INVALID'
  ) {
    return tlsErrorFor(authorizationError, peer);
  }
  const cert = hasPeerCertificate(socket);
  if (cert === null) {
    return new TLSError(
      'TORSION_ERR_TLS_HANDSHAKE_FAILED',
      `TLS handshake with ${peer} failed: the server sent no certificate`,
    );
  }
  const mismatch = checkServerIdentity(options.hostname, cert);
  return mismatch === undefined ? null : tlsErrorFor(mismatch, peer);
}

/**
 * Judges a server's handshake: `null` if the client may be served, else why not.
 * @param peer - `host:port`, for the error message.
 */
export function serverHandshakeError(
  socket: BunSocket,
  options: ServerTLSOptions,
  success: boolean,
  authorizationError: Error | null,
  peer: string,
): TLSError | null {
  // Without a client certificate Bun still reports a verification result
  // (UNABLE_TO_GET_ISSUER_CERT): it means nothing unless one was asked for.
  const failed = handshakeFailure(
    success || isVerifyResult(authorizationError),
    authorizationError,
    peer,
  );
  if (failed !== null) return failed;
  if (options.clientCertificates === 'none') return null;
  const cert = hasPeerCertificate(socket);
  if (cert === null) {
    return options.clientCertificates === 'require'
      ? new TLSError(
          'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
          `TLS handshake with ${peer} failed: a client certificate was required and not given`,
        )
      : null;
  }
  // A certificate that was sent must verify, whether required or only requested.
  return authorizationError === null || socket.authorized
    ? null
    : tlsErrorFor(authorizationError, peer);
}
