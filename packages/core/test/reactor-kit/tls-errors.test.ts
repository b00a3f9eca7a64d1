// tlsErrorFor and friends: one classification of handshake failures, so a
// protocol's `reason.value.code` means the same whichever engine failed.
import { expect } from 'chai';
import { ConnectError, TLSError } from '../../src/errors.js';
import {
  tlsClosedDuringHandshake,
  tlsErrorCodeFor,
  tlsErrorFor,
  tlsHandshakeTimeout,
} from '../../src/reactor-kit/tls-errors.js';

function engineError(code: string, message = `engine says ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('tls-errors', () => {
  describe('tlsErrorCodeFor', () => {
    it('maps the verification results both engines report', () => {
      expect(tlsErrorCodeFor('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).to.equal(
        'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
      );
      expect(tlsErrorCodeFor('DEPTH_ZERO_SELF_SIGNED_CERT')).to.equal(
        'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
      );
      expect(tlsErrorCodeFor('ERR_TLS_CERT_ALTNAME_INVALID')).to.equal(
        'TORSION_ERR_TLS_HOSTNAME_MISMATCH',
      );
      expect(tlsErrorCodeFor('CERT_HAS_EXPIRED')).to.equal('TORSION_ERR_TLS_CERTIFICATE_EXPIRED');
      expect(tlsErrorCodeFor('CERT_NOT_YET_VALID')).to.equal('TORSION_ERR_TLS_CERTIFICATE_EXPIRED');
    });

    it("maps OpenSSL's and BoringSSL's names for the same alert to one code", () => {
      expect(tlsErrorCodeFor('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')).to.equal(
        'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
      );
      expect(tlsErrorCodeFor('ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED')).to.equal(
        'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
      );
      expect(tlsErrorCodeFor('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA')).to.equal(
        'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
      );
    });

    it('recognises prefixed variants of known reasons by pattern', () => {
      expect(tlsErrorCodeFor('SSL_R_TLSV1_ALERT_BAD_CERTIFICATE')).to.equal(
        'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER',
      );
      expect(tlsErrorCodeFor('SOMETHING_CERTIFICATE_REQUIRED')).to.equal(
        'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED',
      );
      expect(tlsErrorCodeFor('X_UNSUPPORTED_PROTOCOL_Y')).to.equal(
        'TORSION_ERR_TLS_PROTOCOL_VERSION',
      );
      expect(tlsErrorCodeFor('BORING_WRONG_VERSION_NUMBER')).to.equal('TORSION_ERR_TLS_NOT_TLS');
    });

    it('returns undefined for codes that are not handshake failures, and for none', () => {
      expect(tlsErrorCodeFor(undefined)).to.equal(undefined);
      expect(tlsErrorCodeFor('ENOENT')).to.equal(undefined);
      expect(tlsErrorCodeFor('')).to.equal(undefined);
    });
  });

  describe('tlsErrorFor', () => {
    it('classifies an engine error, names the peer and keeps the original as cause', () => {
      const original = engineError('CERT_HAS_EXPIRED', 'certificate has expired');
      const err = tlsErrorFor(original, 'example.com:443');
      expect(err).to.be.instanceOf(TLSError);
      expect(err).to.be.instanceOf(ConnectError);
      expect(err.code).to.equal('TORSION_ERR_TLS_CERTIFICATE_EXPIRED');
      expect(err.message).to.contain('example.com:443');
      expect(err.message).to.contain('certificate has expired');
      expect(err.cause).to.equal(original);
    });

    it('falls back to TORSION_ERR_TLS_HANDSHAKE_FAILED for unknown errors and non-errors', () => {
      expect(tlsErrorFor(engineError('ERR_SOMETHING_NEW'), 'p:1').code).to.equal(
        'TORSION_ERR_TLS_HANDSHAKE_FAILED',
      );
      const fromString = tlsErrorFor('boom', 'p:1');
      expect(fromString.code).to.equal('TORSION_ERR_TLS_HANDSHAKE_FAILED');
      expect(fromString.message).to.contain('boom');
      expect(tlsErrorFor(null, 'p:1').code).to.equal('TORSION_ERR_TLS_HANDSHAKE_FAILED');
    });

    it('returns a TLSError unchanged rather than wrapping it twice', () => {
      const first = tlsHandshakeTimeout('p:1', 10);
      expect(tlsErrorFor(first, 'other:2')).to.equal(first);
    });
  });

  it('tlsHandshakeTimeout says how long was allowed', () => {
    const err = tlsHandshakeTimeout('127.0.0.1:8443', 2.5);
    expect(err.code).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
    expect(err.message).to.contain('127.0.0.1:8443').and.contain('2.5 s');
  });

  it('tlsClosedDuringHandshake keeps a cause only when there is one', () => {
    expect(tlsClosedDuringHandshake('p:1').code).to.equal('TORSION_ERR_TLS_CONNECTION_CLOSED');
    expect(tlsClosedDuringHandshake('p:1').cause).to.equal(undefined);
    const cause = engineError('ECONNRESET');
    expect(tlsClosedDuringHandshake('p:1', cause).cause).to.equal(cause);
  });
});
