/**
 * Throw-away certificates for TLS tests, made in memory when a test first
 * asks: a CA, a server certificate for `localhost`/`127.0.0.1`/`::1`, a
 * client certificate, and the broken ones a test of verification needs (an
 * expired one, one for another host, one from a CA nobody trusts). Nothing is
 * committed to the repository and nothing is read from disk, so there is no
 * real-looking private key to leak and no test that starts failing the day a
 * checked-in certificate expires.
 *
 * Node can make keys and signatures but not certificates, and `@torsion/core`
 * has no dependencies, so the few DER structures of an X.509 v3 certificate
 * (RFC 5280) are written here; keys are EC P-256, signed with ECDSA-SHA256.
 *
 * Tests: test/testing/test-certificates.test.ts
 * @module
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A private key and its certificate, both PEM. */
export interface TestKeyPair {
  readonly key: string;
  readonly cert: string;
}

/** Everything {@link makeTestCertificates} makes. */
export interface TestCertificates {
  /** The CA that signs the others (but `untrusted`): a client's or server's trust root. */
  readonly ca: TestKeyPair;
  /** A server certificate valid for `localhost`, `127.0.0.1` and `::1`. */
  readonly server: TestKeyPair;
  /** A client certificate (CN `torsion-test-client`), for mutual TLS. */
  readonly client: TestKeyPair;
  /** A `localhost` server certificate whose validity ended yesterday. */
  readonly expired: TestKeyPair;
  /** A server certificate valid only for `wrong.example`. */
  readonly wrongHost: TestKeyPair;
  /** A `localhost` certificate signed by {@link TestCertificates.otherCa}, which nobody trusts. */
  readonly untrusted: TestKeyPair;
  /** A CA other than `ca`. */
  readonly otherCa: TestKeyPair;
  /** A server certificate for `sni.example` (for SNI tests), signed by `ca`. */
  readonly sni: TestKeyPair;
}

/** The files {@link writeTestCertificates} writes. */
export interface TestCertificateFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  readonly expiredKey: string;
  readonly expiredCert: string;
  readonly wrongHostKey: string;
  readonly wrongHostCert: string;
  readonly untrustedKey: string;
  readonly untrustedCert: string;
  readonly otherCaCert: string;
  readonly sniKey: string;
  readonly sniCert: string;
}

let made: TestCertificates | undefined;

/**
 * The test certificates, made on the first call (a few milliseconds) and the
 * same objects afterwards in this process.
 *
 * @example
 * ```ts
 * const certs = makeTestCertificates();
 * const server = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
 * const client = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });
 * ```
 */
export function makeTestCertificates(): TestCertificates {
  if (made !== undefined) return made;
  const day = 24 * 60 * 60 * 1000;
  const now = Date.now();
  const current = { notBefore: new Date(now - day), notAfter: new Date(now + 30 * day) };
  const ca = makeCA('Torsion Test CA', current);
  const otherCa = makeCA('Torsion Untrusted Test CA', current);
  const localhost: SubjectAltName[] = [{ dns: 'localhost' }, { ip: '127.0.0.1' }, { ip: '::1' }];
  made = Object.freeze({
    ca: ca.pair,
    otherCa: otherCa.pair,
    server: makeLeaf(ca, 'localhost', localhost, current),
    client: makeLeaf(ca, 'torsion-test-client', [], current),
    expired: makeLeaf(ca, 'localhost', localhost, {
      notBefore: new Date(now - 30 * day),
      notAfter: new Date(now - day),
    }),
    wrongHost: makeLeaf(ca, 'wrong.example', [{ dns: 'wrong.example' }], current),
    untrusted: makeLeaf(otherCa, 'localhost', localhost, current),
    sni: makeLeaf(ca, 'sni.example', [{ dns: 'sni.example' }], current),
  });
  return made;
}

/**
 * Writes the test certificates into `dir` (created if needed), for tools and
 * options that take files (`keyFile`, `openssl s_server -key`…).
 * @returns the path of every file.
 */
export function writeTestCertificates(dir: string): TestCertificateFiles {
  const certs = makeTestCertificates();
  mkdirSync(dir, { recursive: true });
  const write = (name: string, pem: string): string => {
    const path = join(dir, name);
    writeFileSync(path, pem, { mode: 0o600 });
    return path;
  };
  return {
    dir,
    caCert: write('ca.pem', certs.ca.cert),
    serverKey: write('server.key', certs.server.key),
    serverCert: write('server.pem', certs.server.cert),
    clientKey: write('client.key', certs.client.key),
    clientCert: write('client.pem', certs.client.cert),
    expiredKey: write('expired.key', certs.expired.key),
    expiredCert: write('expired.pem', certs.expired.cert),
    wrongHostKey: write('wrong-host.key', certs.wrongHost.key),
    wrongHostCert: write('wrong-host.pem', certs.wrongHost.cert),
    untrustedKey: write('untrusted.key', certs.untrusted.key),
    untrustedCert: write('untrusted.pem', certs.untrusted.cert),
    otherCaCert: write('other-ca.pem', certs.otherCa.cert),
    sniKey: write('sni.key', certs.sni.key),
    sniCert: write('sni.pem', certs.sni.cert),
  };
}

// ------------------------------------------------------------------ certificates

interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

type SubjectAltName = { readonly dns: string } | { readonly ip: string };

interface Issuer {
  readonly name: Buffer;
  readonly privateKey: KeyObject;
  readonly keyId: Buffer;
  readonly pair: TestKeyPair;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

function newKey(): { privateKey: KeyObject; spki: Buffer; keyId: Buffer; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    spki,
    keyId: createHash('sha1').update(spki).digest(),
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function makeCA(commonName: string, validity: Validity): Issuer {
  const key = newKey();
  const name = distinguishedName(commonName);
  const extensions = [
    extension(OID.basicConstraints, true, sequence(boolean(true))),
    // keyCertSign and cRLSign (bits 5 and 6).
    extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
    extension(OID.subjectKeyIdentifier, false, octetString(key.keyId)),
  ];
  const cert = signCertificate(
    { name, privateKey: key.privateKey, keyId: key.keyId },
    name,
    key.spki,
    validity,
    extensions,
  );
  return {
    name,
    privateKey: key.privateKey,
    keyId: key.keyId,
    pair: Object.freeze({ key: key.pem, cert }),
  };
}

function makeLeaf(
  issuer: Issuer,
  commonName: string,
  altNames: readonly SubjectAltName[],
  validity: Validity,
): TestKeyPair {
  const key = newKey();
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    // digitalSignature (bit 0).
    extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.subjectKeyIdentifier, false, octetString(key.keyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, issuer.keyId))),
  ];
  if (altNames.length > 0) {
    extensions.push(
      extension(
        OID.subjectAltName,
        false,
        sequence(
          ...altNames.map((alt) =>
            'dns' in alt ? tlv(0x82, Buffer.from(alt.dns, 'ascii')) : tlv(0x87, ipBytes(alt.ip)),
          ),
        ),
      ),
    );
  }
  const cert = signCertificate(
    issuer,
    distinguishedName(commonName),
    key.spki,
    validity,
    extensions,
  );
  return Object.freeze({ key: key.pem, cert });
}

function signCertificate(
  issuer: Pick<Issuer, 'name' | 'privateKey' | 'keyId'>,
  subject: Buffer,
  spki: Buffer,
  validity: Validity,
  extensions: Buffer[],
): string {
  const algorithm = sequence(oid(OID.ecdsaWithSHA256));
  const serial = randomBytes(16);
  // A DER INTEGER must be positive and minimally encoded: a clear top bit keeps it positive and
  // a set 0x40 bit keeps the first byte non-zero (BoringSSL rejects a leading 0x00 byte).
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    issuer.name,
    sequence(time(validity.notBefore), time(validity.notAfter)),
    subject,
    spki,
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer.privateKey);
  const der = sequence(tbs, algorithm, bitString(signature, 0));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

function distinguishedName(commonName: string): Buffer {
  return sequence(
    set(sequence(oid(OID.organization), utf8('Torsion tests'))),
    set(sequence(oid(OID.commonName), utf8(commonName))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function ipBytes(ip: string): Buffer {
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  // Only the forms used above: full groups, or one "::".
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const bytes = Buffer.alloc(16);
  all.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  return bytes;
}

// ------------------------------------------------------------------ DER

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) {
    header = Buffer.from([tag, length]);
  } else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

function integer(bytes: Buffer): Buffer {
  // Positive: a leading zero byte when the top bit is set.
  return tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0]));
}

function octetString(content: Buffer): Buffer {
  return tlv(0x04, content);
}

function bitString(content: Buffer, unusedBits: number): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

function utf8(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const first = (parts[0] ?? 0) * 40 + (parts[1] ?? 0);
  const bytes: number[] = [first];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) {
      chunk.unshift((n & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-04T20:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}
