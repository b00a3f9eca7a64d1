/**
 * What `ITLSTransport` reports about a `tls.TLSSocket` once its handshake
 * completed: the peer certificate, cipher, version and ALPN protocol, in
 * Torsion's shapes (the same on every transport built on `node:tls`).
 *
 * Tests: test/tls*.test.ts
 * @module
 */
import type { TLSSocket } from 'node:tls';
import type { TLSCipher, TLSPeerCertificate } from '../interfaces.js';

/** The peer's certificate, or `null` if it sent none. */
export function peerCertificateOf(socket: TLSSocket): TLSPeerCertificate | null {
  // Node returns an empty object when the peer sent no certificate, and
  // `null` once the socket is destroyed.
  const cert = socket.getPeerCertificate() as ReturnType<TLSSocket['getPeerCertificate']> | null;
  if (cert === null || (cert as Partial<typeof cert>).raw === undefined) return null;
  const result: TLSPeerCertificate = {
    subject: { ...cert.subject },
    issuer: { ...cert.issuer },
    valid_from: cert.valid_from,
    valid_to: cert.valid_to,
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    raw: cert.raw,
    ...(cert.subjectaltname === undefined ? {} : { subjectaltname: cert.subjectaltname }),
  };
  return result;
}

/** The negotiated cipher suite, or `null` before the handshake. */
export function cipherOf(socket: TLSSocket): TLSCipher | null {
  // `null` once the socket is destroyed.
  const cipher = socket.getCipher() as Partial<TLSCipher> | null | undefined;
  if (cipher === null || cipher === undefined || typeof cipher.name !== 'string') return null;
  return {
    name: cipher.name,
    standardName: cipher.standardName ?? cipher.name,
    version: cipher.version ?? '',
  };
}

/** `'TLSv1.3'`…, or `null` before the handshake. */
export function tlsVersionOf(socket: TLSSocket): string | null {
  const version = socket.getProtocol();
  return typeof version === 'string' && version !== 'unknown' ? version : null;
}

/** The ALPN protocol agreed on, or `null`. */
export function alpnOf(socket: TLSSocket): string | null {
  const alpn = socket.alpnProtocol;
  return typeof alpn === 'string' ? alpn : null;
}
