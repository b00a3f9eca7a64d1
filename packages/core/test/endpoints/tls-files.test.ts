// Tests for serverTLSOptionsFor() in src/endpoints/server-strings.ts: the files an ssl: endpoint names, read into TLS
// server options, and the errors that name the endpoint and the file.
import { makeTestCertificates, writeTestCertificates } from '../../src/testing/index.js';
import type { TestCertificateFiles } from '../../src/testing/index.js';
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  CertificateFilesError,
  parseServerDescription,
  serverTLSOptionsFor,
  type SSLServerDescription,
} from '../../src/endpoints/index.js';

function ssl(description: string): SSLServerDescription {
  const endpoint = parseServerDescription(description);
  if (endpoint.type !== 'ssl') throw new Error(`not ssl: ${description}`);
  return endpoint as SSLServerDescription;
}

describe('serverTLSOptionsFor', () => {
  let files: TestCertificateFiles;
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-runner-tls-'));
    files = writeTestCertificates(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

  it('reads the key and certificate, relative paths from the working directory', () => {
    const options = serverTLSOptionsFor(
      ssl(`ssl:0:privateKey=${basename(files.serverKey)}:certKey=${basename(files.serverCert)}`),
      dir,
    );
    expect(options.identity.certificate.fingerprint256).to.equal(
      fingerprint(makeTestCertificates().server.cert),
    );
    expect(options).to.include({ clientCertificates: 'none', minVersion: 'TLSv1.2' });
    expect(options.trustRoot).to.equal(null);
  });

  it('reads key and certificate from one file when certKey is left out', () => {
    const both = join(dir, 'both.pem');
    writeFileSync(
      both,
      readFileSync(files.serverKey, 'utf8') + readFileSync(files.serverCert, 'utf8'),
    );
    const options = serverTLSOptionsFor(ssl('ssl:0:privateKey=both.pem'), dir);
    expect(options.identity.certificate.subject).to.include('CN=localhost');
  });

  it('passes the chain, client CAs, ALPN and minimum version on', () => {
    const options = serverTLSOptionsFor(
      ssl(
        `ssl:0:privateKey=${files.serverKey}:certKey=${files.serverCert}:extraCertChain=${files.caCert}:caCerts=${files.caCert}:clientCertificates=require:alpn=h2,http/1.1:minVersion=TLSv1.3`,
      ),
      '/',
    );
    expect(options.identity.cert.toString()).to.include(makeTestCertificates().ca.cert.trim());
    expect(options.trustRoot?.toString()).to.equal(makeTestCertificates().ca.cert);
    expect(options).to.include({ clientCertificates: 'require', minVersion: 'TLSv1.3' });
    expect(options.alpnProtocols).to.deep.equal(['h2', 'http/1.1']);
  });

  it('reload() reads the same files again', () => {
    const key = join(dir, 'live.key');
    const cert = join(dir, 'live.pem');
    copyFileSync(files.serverKey, key);
    copyFileSync(files.serverCert, cert);
    const options = serverTLSOptionsFor(ssl('ssl:0:privateKey=live.key:certKey=live.pem'), dir);
    copyFileSync(files.sniKey, key);
    copyFileSync(files.sniCert, cert);
    expect(options.reload().identity.certificate.fingerprint256).to.equal(
      fingerprint(makeTestCertificates().sni.cert),
    );
  });

  const failures: [string, (f: TestCertificateFiles) => string, RegExp][] = [
    [
      'a missing key file',
      (f) => `ssl:0:privateKey=${join(f.dir, 'nope.key')}:certKey=${f.serverCert}`,
      /^ssl:0:privateKey=.*: cannot use the certificate files: ENOENT: no such file or directory, open '.*nope\.key'$/,
    ],
    [
      'a key that does not belong to the certificate',
      (f) => `ssl:0:privateKey=${f.sniKey}:certKey=${f.serverCert}`,
      /: cannot use the certificate files: the private key \(.*sni\.key\) does not belong to the certificate \(.*server\.pem\)$/,
    ],
    [
      'a certificate given as the key',
      (f) => `ssl:0:privateKey=${f.serverCert}`,
      /: cannot use the certificate files: .*server\.pem is not an unencrypted PEM private key$/,
    ],
    [
      'a device given as the key',
      (f) => `ssl:0:privateKey=/dev/zero:certKey=${f.serverCert}`,
      /: cannot use the certificate files: \/dev\/zero is a character device, not a regular file$/,
    ],
    [
      'a key given as the client CAs',
      (f) =>
        `ssl:0:privateKey=${f.serverKey}:certKey=${f.serverCert}:caCerts=${f.clientKey}:clientCertificates=request`,
      /: cannot use the certificate files: .*client\.key holds no PEM certificate$/,
    ],
  ];
  for (const [what, description, message] of failures) {
    it(`throws CertificateFilesError naming the endpoint and the file for ${what}`, function () {
      if (description(files).includes('/dev/zero') && process.platform === 'win32') this.skip();
      expect(() => serverTLSOptionsFor(ssl(description(files)), dir))
        .to.throw(CertificateFilesError, message)
        .with.property('code', 'TORSION_ERR_CERTIFICATE_FILES');
    });
  }
});
