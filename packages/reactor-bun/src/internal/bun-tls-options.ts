/**
 * Bun's side of {@link ServerTLSOptions} and {@link ClientTLSOptions}: the
 * `tls` object BunReactor gives `Bun.listen` and `Bun.connect`, and what
 * Bun's native TLS cannot express, refused with a clear error.
 *
 * Verification is Torsion's, not Bun's: clients are created with
 * `rejectUnauthorized: false` and each handshake is judged by
 * bun-tls-handshake.ts, so the server's name is always checked against
 * `options.hostname` (Bun would check the SNI name, or the address dialled
 * when there is none) and every failure gets the same TLSError code as on
 * NodeReactor.
 *
 * Tests: test/tls.bun.test.ts
 * @module
 */
import { constants } from 'node:crypto';
import type { ClientTLSOptions, ServerTLSOptions, TLSVersion } from '@torsion/core';
import type { TLSOptions } from 'bun';

/**
 * What BunReactor cannot do with TLS, each with the reason; the error a
 * caller gets names the capability, as docs/reactor-bun.md lists them.
 */
export const BUN_TLS_LIMITS = {
  tlsSNI:
    'BunReactor cannot serve several certificates chosen by SNI (capability "tlsSNI"): ' +
    "Bun.listen takes one certificate per listener and has no SNI callback, and Bun's " +
    'node:tls (used by startTLS) ignores SNICallback; give the main certificate only, or use NodeReactor',
  tlsHalfClose:
    'BunReactor cannot half-close a connection switched to TLS with startTLS() ' +
    '(capability "tlsHalfClose" after startTLS): Bun\'s node:tls does not report the ' +
    "peer's close_notify once our side is closed, so the half-close would never end; use " +
    'loseConnection(), or listenSSL/connectSSL, whose native TLS half-closes',
} as const;

const serverCache = new WeakMap<ServerTLSOptions, TLSOptions>();
const clientCache = new WeakMap<ClientTLSOptions, TLSOptions>();

/**
 * Checks that Bun's TLS can serve `options` (a listener's, or `startTLS`'s).
 * @throws Error naming the capability Bun lacks (SNI certificates).
 */
export function checkBunCanServe(options: ServerTLSOptions): void {
  if (options.sni.size > 0) throw new Error(BUN_TLS_LIMITS.tlsSNI);
}

/**
 * `Bun.listen`'s `tls` for `options` (made once per options object).
 * Client certificates are requested for `'request'` and `'require'`; Bun
 * itself refuses a client that sends none only for `'require'`, and a sent
 * certificate that does not verify is refused by the handshake check.
 */
export function bunServerTLS(options: ServerTLSOptions): TLSOptions {
  let tls = serverCache.get(options);
  if (tls === undefined) {
    checkBunCanServe(options);
    tls = {
      key: options.identity.key,
      cert: options.identity.cert,
      requestCert: options.clientCertificates !== 'none',
      rejectUnauthorized: options.clientCertificates === 'require',
      secureOptions: versionMask(options.minVersion),
      ...(options.trustRoot === null ? {} : { ca: options.trustRoot }),
      ...(options.alpnProtocols.length === 0 ? {} : { ALPNProtocols: alpnWire(options) }),
    };
    serverCache.set(options, tls);
  }
  return tls;
}

/** `Bun.connect`'s `tls` for `options` (made once per options object). */
export function bunClientTLS(options: ClientTLSOptions): TLSOptions {
  let tls = clientCache.get(options);
  if (tls === undefined) {
    const identity = options.clientCertificate;
    const servername = options.servername;
    tls = {
      // Judged after the handshake, against options.hostname: see the module doc.
      rejectUnauthorized: false,
      secureOptions: versionMask(options.minVersion),
      ...(servername === undefined ? {} : { serverName: servername }),
      ...(options.trustRoot === null ? {} : { ca: options.trustRoot }),
      ...(identity === null ? {} : { key: identity.key, cert: identity.cert }),
      ...(options.alpnProtocols.length === 0 ? {} : { ALPNProtocols: alpnWire(options) }),
    };
    clientCache.set(options, tls);
  }
  return tls;
}

/**
 * BoringSSL's `SSL_OP_NO_*` bits for every version older than `minVersion`
 * (Bun has no `minVersion` option; TLS 1.0 and 1.1 are never offered).
 */
function versionMask(minVersion: TLSVersion): number {
  const older = constants.SSL_OP_NO_TLSv1 | constants.SSL_OP_NO_TLSv1_1;
  return minVersion === 'TLSv1.3' ? older | constants.SSL_OP_NO_TLSv1_2 : older;
}

/** ALPN names in the wire format Bun takes: each name preceded by its length. */
function alpnWire(options: ServerTLSOptions | ClientTLSOptions): Buffer {
  return Buffer.concat(
    options.alpnProtocols.map((name) => {
      const bytes = Buffer.from(name, 'utf8');
      return Buffer.concat([Buffer.of(bytes.length), bytes]);
    }),
  );
}
