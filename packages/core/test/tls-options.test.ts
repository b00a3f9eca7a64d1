// serverTLSOptions and optionsForClientTLS: everything is checked when the
// options are made (missing or mismatched key, unknown option, bad ALPN or
// version), files are read then, verification is on unless an option whose
// name says "insecure" turns it off, and reload() reads the files again.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTooLargeError } from '../src/errors.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { makeTestCertificates, writeTestCertificates } from '../src/testing/test-certificates.js';
import {
  checkTLSOptions,
  ClientTLSOptions,
  DEFAULT_HANDSHAKE_TIMEOUT,
  optionsForClientTLS,
  serverTLSOptions,
  ServerTLSOptions,
} from '../src/tls-options.js';

describe('TLS options', () => {
  const certs = makeTestCertificates();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-tls-options-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('serverTLSOptions', () => {
    it('takes a key and certificate as PEM and applies safe defaults', () => {
      const options = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
      expect(options).to.be.instanceOf(ServerTLSOptions);
      expect(options.side).to.equal('server');
      expect(options.minVersion).to.equal('TLSv1.2');
      expect(options.clientCertificates).to.equal('none');
      expect(options.handshakeTimeout).to.equal(DEFAULT_HANDSHAKE_TIMEOUT);
      expect(options.alpnProtocols).to.deep.equal([]);
      expect(options.identity.certificate.subject).to.include('CN=localhost');
      expect(Object.isFrozen(options)).to.equal(true);
    });

    it('reads key, certificate and chain files, and reload() reads them again', () => {
      const files = writeTestCertificates(dir);
      const options = serverTLSOptions({
        keyFile: files.serverKey,
        certFile: files.serverCert,
        chainFile: files.caCert,
      });
      expect(options.identity.cert.toString()).to.include(certs.ca.cert.trim().split('\n')[1]);
      writeFileSync(files.serverKey, certs.sni.key);
      writeFileSync(files.serverCert, certs.sni.cert);
      const reloaded = options.reload();
      expect(reloaded).to.not.equal(options);
      expect(reloaded.identity.certificate.subject).to.include('CN=sni.example');
      expect(options.identity.certificate.subject).to.include('CN=localhost');
    });

    it('refuses a key that does not belong to the certificate, naming both', () => {
      expect(() => serverTLSOptions({ key: certs.client.key, cert: certs.server.cert })).to.throw(
        TypeError,
        /does not belong to the certificate/,
      );
    });

    it('refuses PEM that does not parse, a missing key or certificate, and both forms at once', () => {
      expect(() => serverTLSOptions({ key: certs.server.key, cert: 'nonsense' })).to.throw(
        TypeError,
        /not a PEM certificate/,
      );
      expect(() => serverTLSOptions({ key: 'nonsense', cert: certs.server.cert })).to.throw(
        TypeError,
        /not an unencrypted PEM private key/,
      );
      expect(() => serverTLSOptions({ cert: certs.server.cert })).to.throw(
        TypeError,
        /private key is needed/,
      );
      expect(() => serverTLSOptions({ key: certs.server.key })).to.throw(
        TypeError,
        /certificate is needed/,
      );
      expect(() =>
        serverTLSOptions({ key: certs.server.key, keyFile: 'x.pem', cert: certs.server.cert }),
      ).to.throw(TypeError, /key or keyFile, not both/);
    });

    it('refuses an unknown option by name (a misspelt option must not be ignored)', () => {
      expect(() =>
        serverTLSOptions({
          key: certs.server.key,
          cert: certs.server.cert,
          requireClientCert: true,
        } as never),
      ).to.throw(TypeError, /unknown option "requireClientCert"/);
    });

    it('reports a missing file with its system error, and bounds file size', () => {
      expect(() =>
        serverTLSOptions({ keyFile: join(dir, 'missing.key'), cert: certs.server.cert }),
      ).to.throw(/ENOENT/);
      const big = join(dir, 'big.pem');
      writeFileSync(big, Buffer.alloc(1024 * 1024 + 1, 0x41));
      expect(() => serverTLSOptions({ keyFile: big, cert: certs.server.cert })).to.throw(
        FileTooLargeError,
      );
    });

    it('needs an explicit trust root to verify client certificates', () => {
      expect(() =>
        serverTLSOptions({
          key: certs.server.key,
          cert: certs.server.cert,
          clientCertificates: 'require',
        }),
      ).to.throw(TypeError, /needs trustRoot or trustRootFile/);
      const options = serverTLSOptions({
        key: certs.server.key,
        cert: certs.server.cert,
        clientCertificates: 'require',
        trustRoot: certs.ca.cert,
      });
      expect(options.clientCertificates).to.equal('require');
    });

    it('chooses SNI certificates by exact name, then one-label wildcard, else the main one', () => {
      const options = serverTLSOptions({
        key: certs.server.key,
        cert: certs.server.cert,
        sni: {
          'SNI.example': { key: certs.sni.key, cert: certs.sni.cert },
          '*.wild.example': { key: certs.wrongHost.key, cert: certs.wrongHost.cert },
        },
      });
      expect(options.certifiedKeyFor('sni.example')).to.equal(options.sni.get('sni.example'));
      expect(options.certifiedKeyFor('a.wild.example')).to.equal(options.sni.get('*.wild.example'));
      expect(options.certifiedKeyFor('a.b.wild.example')).to.equal(options.identity);
      expect(options.certifiedKeyFor(undefined)).to.equal(options.identity);
      expect(options.certifiedKeyFor('other.example')).to.equal(options.identity);
      expect(() =>
        serverTLSOptions({
          key: certs.server.key,
          cert: certs.server.cert,
          sni: { 'bad name!': { key: certs.sni.key, cert: certs.sni.cert } },
        }),
      ).to.throw(TypeError, /is not a host name/);
    });

    it('accepts TLS 1.2 or 1.3 as the minimum, nothing older, and checks ALPN names', () => {
      const base = { key: certs.server.key, cert: certs.server.cert };
      expect(serverTLSOptions({ ...base, minVersion: 'TLSv1.3' }).minVersion).to.equal('TLSv1.3');
      expect(() => serverTLSOptions({ ...base, minVersion: 'TLSv1.1' as never })).to.throw(
        TypeError,
        /minVersion/,
      );
      expect(serverTLSOptions({ ...base, alpnProtocols: ['h2', 'x'] }).alpnProtocols).to.deep.equal(
        ['h2', 'x'],
      );
      expect(() => serverTLSOptions({ ...base, alpnProtocols: [''] })).to.throw(TypeError, /ALPN/);
      expect(() => serverTLSOptions({ ...base, handshakeTimeout: 0 })).to.throw(RangeError);
    });
  });

  describe('optionsForClientTLS', () => {
    it('verifies by default, against the default roots unless a trust root is given', () => {
      const options = optionsForClientTLS('example.com');
      expect(options).to.be.instanceOf(ClientTLSOptions);
      expect(options.insecureSkipVerify).to.equal(false);
      expect(options.trustRoot).to.equal(null);
      expect(options.servername).to.equal('example.com');
      const pinned = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });
      expect(pinned.trustRoot?.toString()).to.equal(certs.ca.cert);
    });

    it('sends no SNI for an IP address (SNI carries names only)', () => {
      expect(optionsForClientTLS('127.0.0.1').servername).to.equal(undefined);
      expect(optionsForClientTLS('::1').servername).to.equal(undefined);
    });

    it('logs a warning whenever verification is turned off', () => {
      const capture = LogCapture.start();
      try {
        const options = optionsForClientTLS('localhost', { insecureSkipVerify: true });
        expect(options.insecureSkipVerify).to.equal(true);
      } finally {
        capture.stop();
      }
      const warnings = capture.events.filter((e) => e.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]?.message).to.match(/verification is OFF/);
    });

    it('takes a client certificate for mutual TLS, checked like a server one', () => {
      const options = optionsForClientTLS('localhost', {
        trustRoot: certs.ca.cert,
        clientCertificate: { key: certs.client.key, cert: certs.client.cert },
      });
      expect(options.clientCertificate?.certificate.subject).to.include('torsion-test-client');
      expect(() =>
        optionsForClientTLS('localhost', {
          clientCertificate: { key: certs.server.key, cert: certs.client.cert },
        }),
      ).to.throw(TypeError, /does not belong/);
    });

    it('refuses an empty host name, a trust root that holds no certificate, and unknown options', () => {
      expect(() => optionsForClientTLS('')).to.throw(TypeError, /hostname/);
      expect(() => optionsForClientTLS('localhost', { trustRoot: 'nothing here' })).to.throw(
        TypeError,
        /holds no PEM certificate/,
      );
      expect(() => optionsForClientTLS('localhost', { verify: false } as never)).to.throw(
        TypeError,
        /unknown option "verify"/,
      );
    });
  });

  it('checkTLSOptions accepts only options made by the builders, for the side asked', () => {
    const server = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
    const client = optionsForClientTLS('localhost');
    expect(() => checkTLSOptions(server, 'server')).to.not.throw();
    expect(() => checkTLSOptions(client, 'client')).to.not.throw();
    expect(() => checkTLSOptions(client)).to.not.throw();
    expect(() => checkTLSOptions(server, 'client')).to.throw(TypeError, /optionsForClientTLS/);
    expect(() => checkTLSOptions({ key: 'x', cert: 'y' }, 'server')).to.throw(
      TypeError,
      /serverTLSOptions\(\).*an instance of Object/,
    );
  });
});
