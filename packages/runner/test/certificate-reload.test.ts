// CertificateReloader: on reload, every ssl: port gets options read afresh
// from its files; a port whose files fail keeps its options, with an error
// logged; SIGHUP triggers it only while reloadOnSignal() is in force.
import {
  Logger,
  setLogObservers,
  type ISSLListeningPort,
  type LogEvent,
  type ServerTLSOptions,
} from '@torsion/core';
import { writeTestCertificates } from '@torsion/core/testing';
import type { TestCertificateFiles } from '@torsion/core/testing';
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateReloader, RELOAD_SIGNAL } from '../src/certificate-reload.js';
import {
  parseServerDescription,
  serverTLSOptionsFor,
  type SSLServerDescription,
} from '@torsion/core';

/** Only what the reloader uses of a port: setTLSOptions, recorded. */
class RecordingPort {
  readonly given: ServerTLSOptions[] = [];
  refuse = false;
  setTLSOptions(options: ServerTLSOptions): void {
    if (this.refuse) throw new TypeError('refused by the port');
    this.given.push(options);
  }
  asPort(): ISSLListeningPort {
    return this as unknown as ISSLListeningPort;
  }
}

describe('CertificateReloader', () => {
  let dir = '';
  let files: TestCertificateFiles;
  let events: LogEvent[];
  const fingerprintOf = (options: ServerTLSOptions | undefined): string | undefined =>
    options?.identity.certificate.fingerprint256;
  const serverFingerprint = (): string =>
    serverTLSOptionsFor(endpointFor('server'), dir).identity.certificate.fingerprint256;

  function endpointFor(name: string): SSLServerDescription {
    const endpoint = parseServerDescription(`ssl:0:privateKey=${name}.key:certKey=${name}.pem`);
    if (endpoint.type !== 'ssl') throw new Error('not ssl');
    return endpoint as SSLServerDescription;
  }

  /** A port serving live.key/live.pem, which start as the server certificate. */
  function served(reloader: CertificateReloader): RecordingPort {
    copyFileSync(files.serverKey, join(dir, 'live.key'));
    copyFileSync(files.serverCert, join(dir, 'live.pem'));
    const endpoint = endpointFor('live');
    const port = new RecordingPort();
    reloader.add('echo', endpoint, port.asPort(), serverTLSOptionsFor(endpoint, dir));
    return port;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-runner-reload-'));
    files = writeTestCertificates(dir);
    events = [];
    setLogObservers([(event) => events.push(event)]);
  });
  afterEach(() => {
    setLogObservers([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each port the certificate now in its files, and logs which', () => {
    const reloader = new CertificateReloader(new Logger('torsion.runner'));
    const port = served(reloader);
    copyFileSync(files.sniKey, join(dir, 'live.key'));
    copyFileSync(files.sniCert, join(dir, 'live.pem'));
    expect(reloader.reload()).to.deep.equal({ reloaded: 1, failed: 0 });
    expect(port.given).to.have.length(1);
    const sni = serverTLSOptionsFor(endpointFor('sni'), dir);
    expect(fingerprintOf(port.given[0])).to.equal(fingerprintOf(sni));
    const info = events.find((e) => e.level === 'info');
    expect(info?.message).to.match(
      /^echo: reloaded the certificate of ssl:0:privateKey=live\.key:certKey=live\.pem: .*CN=sni\.example.*SHA-256 [0-9A-F:]+$/,
    );
  });

  for (const [what, damage, reason] of [
    [
      'a key file that went missing',
      () => rmSync(join(dir, 'live.key')),
      /ENOENT: no such file or directory, open '.*live\.key'/,
    ],
    [
      'a key replaced before its certificate',
      () => copyFileSync(files.sniKey, join(dir, 'live.key')),
      /the private key \(.*live\.key\) does not belong to the certificate \(.*live\.pem\)/,
    ],
    [
      'a certificate file cut short',
      () => writeFileSync(join(dir, 'live.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n'),
      /.*live\.pem is not a PEM certificate/,
    ],
  ] as const) {
    it(`keeps the previous certificate and logs an error for ${what}`, () => {
      const reloader = new CertificateReloader(new Logger('torsion.runner'));
      const port = served(reloader);
      damage();
      expect(reloader.reload()).to.deep.equal({ reloaded: 0, failed: 1 });
      expect(port.given).to.deep.equal([]);
      const errors = events.filter((e) => e.level === 'error');
      expect(errors).to.have.length(1);
      expect(errors[0]?.message).to.match(
        new RegExp(
          `^echo: cannot reload the certificate of ssl:0:privateKey=live\\.key:certKey=live\\.pem: ${reason.source}; still serving the previous one \\(.*CN=localhost.*SHA-256 ${serverFingerprint()}\\)$`,
        ),
      );
    });
  }

  it('keeps the previous options when the port refuses the new ones', () => {
    const reloader = new CertificateReloader(new Logger('torsion.runner'));
    const port = served(reloader);
    port.refuse = true;
    expect(reloader.reload()).to.deep.equal({ reloaded: 0, failed: 1 });
    expect(events.find((e) => e.level === 'error')?.message).to.include('refused by the port');
  });

  it('reloads the other ports when one fails', () => {
    const reloader = new CertificateReloader(new Logger('torsion.runner'));
    const broken = served(reloader);
    const endpoint = endpointFor('server');
    const good = new RecordingPort();
    reloader.add('finger', endpoint, good.asPort(), serverTLSOptionsFor(endpoint, dir));
    rmSync(join(dir, 'live.key'));
    expect(reloader.reload()).to.deep.equal({ reloaded: 1, failed: 1 });
    expect(broken.given).to.have.length(0);
    expect(good.given).to.have.length(1);
  });

  it(`reloads on ${RELOAD_SIGNAL} until told to stop, and installs nothing without ssl: ports`, () => {
    const before = process.listenerCount(RELOAD_SIGNAL);
    const empty = new CertificateReloader(new Logger('torsion.runner'));
    const stopEmpty = empty.reloadOnSignal();
    expect(process.listenerCount(RELOAD_SIGNAL)).to.equal(before);
    stopEmpty();

    const reloader = new CertificateReloader(new Logger('torsion.runner'));
    const port = served(reloader);
    const stop = reloader.reloadOnSignal();
    try {
      expect(process.listenerCount(RELOAD_SIGNAL)).to.equal(before + 1);
      process.emit(RELOAD_SIGNAL, RELOAD_SIGNAL);
      expect(port.given).to.have.length(1);
      expect(events.map((e) => e.message)).to.include(
        `Received ${RELOAD_SIGNAL}, reloading certificates`,
      );
    } finally {
      stop();
    }
    expect(process.listenerCount(RELOAD_SIGNAL)).to.equal(before);
  });
});
