// makeTestCertificates: the certificates verify (or fail to) exactly as
// their names say, against node:tls's own verification, and
// writeTestCertificates puts them where tools that take files find them.
import { expect } from 'chai';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import {
  makeTestCertificates,
  writeTestCertificates,
  type TestKeyPair,
} from '../../src/testing/test-certificates.js';

describe('makeTestCertificates', () => {
  const certs = makeTestCertificates();
  const ca = new X509Certificate(certs.ca.cert);
  const otherCa = new X509Certificate(certs.otherCa.cert);
  const parse = (pem: string): X509Certificate => new X509Certificate(pem);

  it('returns the same certificates on every call in a process', () => {
    expect(makeTestCertificates()).to.equal(certs);
  });

  it('makes a CA that signs the server, client, expired, wrong-host and SNI certificates', () => {
    expect(ca.ca).to.equal(true);
    for (const pair of [certs.server, certs.client, certs.expired, certs.wrongHost, certs.sni]) {
      const cert = parse(pair.cert);
      expect(cert.ca).to.equal(false);
      expect(cert.checkIssued(ca)).to.equal(true);
      expect(cert.verify(ca.publicKey)).to.equal(true);
    }
  });

  it('makes the untrusted certificate with another CA', () => {
    const cert = parse(certs.untrusted.cert);
    expect(cert.verify(ca.publicKey)).to.equal(false);
    expect(cert.verify(otherCa.publicKey)).to.equal(true);
  });

  it('names localhost, 127.0.0.1 and ::1 on the server certificate, and only wrong.example on the wrong-host one', () => {
    const server = parse(certs.server.cert).toLegacyObject();
    expect(checkServerIdentity('localhost', server)).to.equal(undefined);
    expect(checkServerIdentity('127.0.0.1', server)).to.equal(undefined);
    expect(checkServerIdentity('::1', server)).to.equal(undefined);
    const wrong = parse(certs.wrongHost.cert).toLegacyObject();
    expect(checkServerIdentity('localhost', wrong)).to.be.instanceOf(Error);
    expect(checkServerIdentity('wrong.example', wrong)).to.equal(undefined);
  });

  it('makes the expired certificate expired and the others valid now', () => {
    const now = Date.now();
    expect(Date.parse(parse(certs.expired.cert).validTo)).to.be.below(now);
    expect(Date.parse(parse(certs.server.cert).validTo)).to.be.above(now);
    expect(Date.parse(parse(certs.server.cert).validFrom)).to.be.below(now);
  });

  it('pairs every key with its certificate', () => {
    for (const pair of Object.values(certs as unknown as Record<string, TestKeyPair>)) {
      expect(parse(pair.cert).checkPrivateKey(createPrivateKey(pair.key))).to.equal(true);
    }
  });

  it('writes every certificate and key to files, keys readable only by the owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-test-certs-'));
    try {
      const files = writeTestCertificates(dir);
      expect(readFileSync(files.serverCert, 'utf8')).to.equal(certs.server.cert);
      expect(readFileSync(files.caCert, 'utf8')).to.equal(certs.ca.cert);
      expect(readFileSync(files.clientKey, 'utf8')).to.equal(certs.client.key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
