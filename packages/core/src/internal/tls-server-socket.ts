/**
 * The server side of a TLS connection without a `tls.Server`: a TLS port
 * wraps each accepted `net.Socket` in a `tls.TLSSocket` itself, which is the
 * per-connection work `tls.Server` does too, so a Torsion TLS port costs what
 * a plain `node:tls` server costs. Around such a socket `tls.Server` does two
 * more things that the socket does not do alone, and this module does them:
 *
 * - Node holds back the errors a TLS socket raises after its handshake (a
 *   bad record, an alert, the TCP socket's own errors) as an internal event
 *   until its owner "releases control"; `tls.Server` and `tls.connect`
 *   release it, so must we, or such an error would leave the socket open
 *   and silent.
 * - OpenSSL accepts any client certificate and leaves the verdict to
 *   JavaScript: `tls.Server` asks the native handle for the verification
 *   result once the handshake is done, and so does
 *   {@link clientCertificateError} (on Bun, which has no such handle, it reads
 *   the result Bun's socket records). (A client that sends no certificate when
 *   one is required is refused by OpenSSL itself.)
 *
 * Both use the same non-public members `tls.Server` uses (`_releaseControl`
 * and `_handle.verifyError`); they are looked up defensively.
 *
 * Tests: test/tls.integration.test.ts, test/tls-mutual.integration.test.ts
 * @module
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type TLSSocketOptions } from 'node:tls';

interface NodeTLSSocketInternals {
  _releaseControl?: () => boolean;
  _handle?: { verifyError?: () => Error | null } | null;
}

/**
 * Starts the server side of a TLS handshake on an accepted socket. The
 * socket's `'error'` events (handshake failures included) go to `'error'`,
 * whose listener the caller must add before the next turn; `'secure'` fires
 * when the handshake is done.
 * @param socket - an accepted socket; the TLS socket inherits its `allowHalfOpen`.
 * @param options - made by `serverSocketOptions()` (`isServer: true`).
 */
export function acceptTLS(socket: Socket | Duplex, options: TLSSocketOptions): TLSSocket {
  const tlsSocket = new TLSSocket(socket, options);
  const internals = tlsSocket as unknown as NodeTLSSocketInternals;
  if (typeof internals._releaseControl === 'function') internals._releaseControl();
  return tlsSocket;
}

/**
 * Why the client's certificate is not acceptable, once the handshake is
 * done: the verification error (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE` for a
 * certificate from an unknown CA, `CERT_HAS_EXPIRED`), or `null` when the
 * client sent none or sent a valid one.
 */
export function clientCertificateError(socket: TLSSocket): Error | null {
  if (socket.getPeerX509Certificate() === undefined) return null;
  const handle = (socket as unknown as NodeTLSSocketInternals)._handle;
  const verify = handle?.verifyError;
  if (typeof verify === 'function') return verify.call(handle) ?? null;
  // Bun's node:tls has no verifyError, but it does set `authorized` and
  // `authorizationError` (a code) on a server socket itself, which Node
  // leaves to tls.Server.
  if (socket.authorized) return null;
  const reason = socket.authorizationError as Error | string | null | undefined;
  if (typeof reason === 'string') {
    return Object.assign(new Error(`client certificate verification failed: ${reason}`), {
      code: reason,
    });
  }
  if (reason instanceof Error) return reason;
  return new Error('Cannot verify the client certificate on this runtime');
}
