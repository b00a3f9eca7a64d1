/**
 * What a TLS connection is made with: {@link serverTLSOptions} for a server
 * (key and certificate chain, SNI, mutual TLS, ALPN) and
 * {@link optionsForClientTLS} for a client (which verifies the server's
 * certificate and host name unless told otherwise, in an option whose name
 * says it is insecure). Both check everything when they are called, so a
 * missing file, a key that does not match its certificate or an unknown
 * option fails at start-up with a message naming it, not at the first
 * handshake. The objects they return are immutable and reactor-neutral (PEM
 * bytes, no Node secure context): each reactor builds its own from them.
 *
 * Tests: test/tls-options.test.ts
 * @module
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { checkSeconds } from './reactor-kit/argument-checks.js';
import { Logger } from './log.js';
import { readBoundedFileSync } from './read-bounded-file.js';

const log = new Logger('torsion.tls');

/** PEM text, as a string or its bytes. */
export type PEM = string | Uint8Array;

/** The TLS versions Torsion accepts as a minimum. Older ones are broken and not offered. */
export type TLSVersion = 'TLSv1.2' | 'TLSv1.3';

/**
 * Largest key, certificate or CA file read, in bytes. A CA bundle of every
 * public root is about 220 KiB; anything much larger is a wrong path.
 */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** Default seconds a handshake may take before the connection is closed. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 30;

/** A private key with its certificate (and chain), as PEM or as files. */
export interface KeyAndCertificate {
  /** The private key in PEM. Give this or `keyFile`. */
  readonly key?: PEM;
  /** A PEM file holding the private key. */
  readonly keyFile?: string;
  /** The certificate in PEM, optionally followed by its intermediate certificates. Give this or `certFile`. */
  readonly cert?: PEM;
  /** A PEM file holding the certificate (and optionally its chain). */
  readonly certFile?: string;
  /** Intermediate certificates to send after the certificate (Twisted's `extraCertChain`). */
  readonly chain?: PEM;
  /** A PEM file of intermediate certificates. */
  readonly chainFile?: string;
}

/** Certificates to trust, as PEM or a file; one or more certificates concatenated. */
export interface TrustRoot {
  /** CA certificates in PEM. */
  readonly trustRoot?: PEM;
  /** A PEM file of CA certificates. */
  readonly trustRootFile?: string;
}

/** What {@link serverTLSOptions} takes. */
export interface ServerTLSOptionsInit extends KeyAndCertificate, TrustRoot {
  /**
   * Further certificates chosen by the name the client asks for (SNI): keys are
   * host names, optionally with a leading `*.` wildcard for one label. A client
   * that asks for no name, or another one, gets the main certificate.
   */
  readonly sni?: Readonly<Record<string, KeyAndCertificate>>;
  /**
   * Client certificates (mutual TLS): `'none'` (default) asks for none;
   * `'request'` asks and verifies one if sent; `'require'` refuses a client
   * without a valid one. Verified against `trustRoot`/`trustRootFile`, which
   * `'request'` and `'require'` need: a server trusts no client CA implicitly.
   */
  readonly clientCertificates?: 'none' | 'request' | 'require';
  /** ALPN protocols this server speaks, most preferred first (e.g. `['h2', 'http/1.1']`). */
  readonly alpnProtocols?: readonly string[];
  /** The oldest TLS version accepted. Default `'TLSv1.2'`. */
  readonly minVersion?: TLSVersion;
  /** Seconds a handshake may take before the connection is closed. Default 30. */
  readonly handshakeTimeout?: number;
}

/** What {@link optionsForClientTLS} takes after the host name. */
export interface ClientTLSOptionsInit extends TrustRoot {
  /** A certificate to present to a server that asks for one (mutual TLS). */
  readonly clientCertificate?: KeyAndCertificate;
  /** ALPN protocols to offer, most preferred first. */
  readonly alpnProtocols?: readonly string[];
  /** The oldest TLS version accepted. Default `'TLSv1.2'`. */
  readonly minVersion?: TLSVersion;
  /** Seconds a handshake may take before the attempt fails. Default 30. */
  readonly handshakeTimeout?: number;
  /**
   * Accept any certificate for any name: **no protection against an active
   * attacker**. For tests against a throw-away certificate only; a warning is
   * logged each time options are made with it. Prefer `trustRoot`.
   */
  readonly insecureSkipVerify?: boolean;
}

/** A private key and the certificate chain sent with it, checked to belong together. */
export interface CertifiedKey {
  /** The private key, PEM. */
  readonly key: Buffer;
  /** The certificate followed by its intermediates, PEM. */
  readonly cert: Buffer;
  /** The leaf certificate, parsed. */
  readonly certificate: X509Certificate;
}

/** What both sides' options share. */
abstract class TLSOptionsBase {
  /** Extra CA certificates (PEM), or `null` for the default roots. */
  readonly trustRoot: Buffer | null;
  /** ALPN protocols, most preferred first (empty: no ALPN). */
  readonly alpnProtocols: readonly string[];
  /** The oldest TLS version accepted. */
  readonly minVersion: TLSVersion;
  /** Seconds a handshake may take. */
  readonly handshakeTimeout: number;

  protected constructor(what: string, init: TrustRoot & CommonInit) {
    this.trustRoot = readTrustRoot(what, init);
    this.alpnProtocols = checkAlpn(what, init.alpnProtocols);
    this.minVersion = checkMinVersion(what, init.minVersion);
    const timeout = init.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    checkSeconds(timeout, `${what}: handshakeTimeout`, false);
    this.handshakeTimeout = timeout;
  }
}

interface CommonInit {
  readonly alpnProtocols?: readonly string[] | undefined;
  readonly minVersion?: TLSVersion | undefined;
  readonly handshakeTimeout?: number | undefined;
}

/**
 * A TLS server's settings, made by {@link serverTLSOptions}. Give them to
 * `listenSSL`, `startTLS` or an `ssl:` endpoint.
 */
export class ServerTLSOptions extends TLSOptionsBase {
  /** Which side these options are for. */
  readonly side = 'server' as const;
  /** The main key and certificate chain. */
  readonly identity: CertifiedKey;
  /** SNI certificates by host name (lower case; `*.example.com` for a wildcard). */
  readonly sni: ReadonlyMap<string, CertifiedKey>;
  /** Whether client certificates are asked for, and required. */
  readonly clientCertificates: 'none' | 'request' | 'require';
  readonly #init: ServerTLSOptionsInit;

  /** @internal Use {@link serverTLSOptions}. */
  constructor(init: ServerTLSOptionsInit) {
    checkKnownKeys('serverTLSOptions', init, SERVER_KEYS);
    super('serverTLSOptions', init);
    this.#init = init;
    this.identity = readCertifiedKey('serverTLSOptions', init);
    const sni = new Map<string, CertifiedKey>();
    for (const [name, pair] of Object.entries(init.sni ?? {})) {
      const host = name.toLowerCase();
      if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
        throw new TypeError(
          `serverTLSOptions: sni key ${JSON.stringify(name)} is not a host name (a leading "*." is allowed)`,
        );
      }
      checkKnownKeys(`serverTLSOptions: sni[${JSON.stringify(name)}]`, pair, PAIR_KEYS);
      sni.set(host, readCertifiedKey(`serverTLSOptions: sni[${JSON.stringify(name)}]`, pair));
    }
    this.sni = sni;
    const clientCertificates = init.clientCertificates ?? 'none';
    if (!['none', 'request', 'require'].includes(clientCertificates)) {
      throw new TypeError(
        `serverTLSOptions: clientCertificates must be 'none', 'request' or 'require', got ${JSON.stringify(clientCertificates)}`,
      );
    }
    if (clientCertificates !== 'none' && this.trustRoot === null) {
      throw new TypeError(
        `serverTLSOptions: clientCertificates '${clientCertificates}' needs trustRoot or trustRootFile (the CA that signs client certificates)`,
      );
    }
    this.clientCertificates = clientCertificates;
    Object.freeze(this);
  }

  /**
   * The same settings with every file read again (certificate reload, e.g. on
   * SIGHUP); PEM given inline is kept.
   * @throws as {@link serverTLSOptions} if a file is now missing or wrong:
   *   the caller keeps serving with the old options.
   */
  reload(): ServerTLSOptions {
    return new ServerTLSOptions(this.#init);
  }

  /** The certificate for a client that asked for `servername` (SNI): exact name, then wildcard, then the main one. */
  certifiedKeyFor(servername: string | null | undefined): CertifiedKey {
    if (servername === null || servername === undefined || servername === '') return this.identity;
    const name = servername.toLowerCase();
    const exact = this.sni.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    const wildcard = dot > 0 ? this.sni.get(`*${name.slice(dot)}`) : undefined;
    return wildcard ?? this.identity;
  }
}

/**
 * A TLS client's settings, made by {@link optionsForClientTLS}. Give them to
 * `connectSSL`, `startTLS` or an `ssl:` client endpoint.
 */
export class ClientTLSOptions extends TLSOptionsBase {
  /** Which side these options are for. */
  readonly side = 'client' as const;
  /** The name (or IP address) the server's certificate must be valid for; sent as SNI unless an IP. */
  readonly hostname: string;
  /** The certificate presented to a server that asks for one. */
  readonly clientCertificate: CertifiedKey | null;
  /** True when verification is off (see {@link ClientTLSOptionsInit.insecureSkipVerify}). */
  readonly insecureSkipVerify: boolean;

  /** @internal Use {@link optionsForClientTLS}. */
  constructor(hostname: string, init: ClientTLSOptionsInit) {
    checkKnownKeys('optionsForClientTLS', init, CLIENT_KEYS);
    super('optionsForClientTLS', init);
    if (typeof hostname !== 'string' || hostname === '') {
      throw new TypeError(
        `optionsForClientTLS: hostname must be a non-empty string (the name the server's certificate must carry), got ${JSON.stringify(hostname)}`,
      );
    }
    this.hostname = hostname;
    this.clientCertificate =
      init.clientCertificate === undefined
        ? null
        : readCertifiedKey('optionsForClientTLS: clientCertificate', init.clientCertificate);
    if (init.insecureSkipVerify !== undefined && typeof init.insecureSkipVerify !== 'boolean') {
      throw new TypeError('optionsForClientTLS: insecureSkipVerify must be a boolean');
    }
    this.insecureSkipVerify = init.insecureSkipVerify === true;
    if (this.insecureSkipVerify) {
      log.warn(
        `TLS verification is OFF for connections to ${hostname} (insecureSkipVerify): ` +
          'any certificate is accepted, so an active attacker can read and change the traffic',
        { hostname },
      );
    }
    Object.freeze(this);
  }

  /** The SNI name to send: the host name, unless it is an IP address (SNI carries names only). */
  get servername(): string | undefined {
    return isIPAddress(this.hostname) ? undefined : this.hostname;
  }
}

/**
 * A TLS server's settings: a key and certificate chain, and optionally SNI
 * certificates, client-certificate verification, ALPN and a minimum version.
 * Files are read now (at most {@link MAX_PEM_FILE_BYTES} each).
 *
 * @example
 * ```ts
 * const options = serverTLSOptions({ keyFile: 'key.pem', certFile: 'cert.pem' });
 * reactor.listenSSL(8443, Factory.forProtocol(Echo), options);
 * ```
 * @throws TypeError for a missing or unknown option, PEM that does not parse,
 *   or a key that does not belong to its certificate.
 * @throws RangeError for a bad handshake timeout.
 * @throws the file error (ENOENT, FileTooLargeError…) for a file that cannot be read.
 */
export function serverTLSOptions(init: ServerTLSOptionsInit): ServerTLSOptions {
  return new ServerTLSOptions(init);
}

/**
 * A TLS client's settings for connecting to `hostname` (Twisted's
 * `optionsForClientTLS`): the server's certificate must chain to a trusted root
 * (the default roots, or `trustRoot`) and be valid for `hostname`. Turning
 * verification off takes `insecureSkipVerify: true`, which logs a warning.
 *
 * @example
 * ```ts
 * reactor.connectSSL('example.com', 443, factory, optionsForClientTLS('example.com'));
 * ```
 * @throws TypeError for an empty host name, an unknown option or PEM that does not parse.
 * @throws RangeError for a bad handshake timeout.
 */
export function optionsForClientTLS(
  hostname: string,
  init: ClientTLSOptionsInit = {},
): ClientTLSOptions {
  return new ClientTLSOptions(hostname, init);
}

/**
 * Checks that `options` were made by {@link serverTLSOptions} or
 * {@link optionsForClientTLS} (a plain object would skip their checks).
 * @throws TypeError naming what was given.
 */
export function checkTLSOptions(
  options: unknown,
  side?: 'server' | 'client',
): asserts options is ServerTLSOptions | ClientTLSOptions {
  const ok =
    (side !== 'client' && options instanceof ServerTLSOptions) ||
    (side !== 'server' && options instanceof ClientTLSOptions);
  if (!ok) {
    const wanted =
      side === 'server'
        ? 'serverTLSOptions()'
        : side === 'client'
          ? 'optionsForClientTLS()'
          : 'serverTLSOptions() or optionsForClientTLS()';
    throw new TypeError(`TLS options must be made by ${wanted}, got ${describe(options)}`);
  }
}

// ------------------------------------------------------------------ internals

const PAIR_KEYS = ['key', 'keyFile', 'cert', 'certFile', 'chain', 'chainFile'] as const;
const SERVER_KEYS = [
  ...PAIR_KEYS,
  'trustRoot',
  'trustRootFile',
  'sni',
  'clientCertificates',
  'alpnProtocols',
  'minVersion',
  'handshakeTimeout',
] as const;
const CLIENT_KEYS = [
  'trustRoot',
  'trustRootFile',
  'clientCertificate',
  'alpnProtocols',
  'minVersion',
  'handshakeTimeout',
  'insecureSkipVerify',
] as const;

/** An IPv4 or IPv6 literal (a host name has no colon and does not end in a number). */
function isIPAddress(host: string): boolean {
  return host.includes(':') || /^[0-9.]+$/.test(host);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' ? `an instance of ${name}` : 'an object';
}

function checkKnownKeys(what: string, init: unknown, known: readonly string[]): void {
  if (typeof init !== 'object' || init === null) {
    throw new TypeError(`${what}: options must be an object, got ${describe(init)}`);
  }
  for (const key of Object.keys(init)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${what}: unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`,
      );
    }
  }
}

/** Inline PEM or a file's contents; exactly one of the two may be given. */
function pemFrom(
  what: string,
  inline: PEM | undefined,
  file: string | undefined,
  inlineName: string,
  fileName: string,
): Buffer | null {
  if (inline !== undefined && file !== undefined) {
    throw new TypeError(`${what}: give ${inlineName} or ${fileName}, not both`);
  }
  if (inline !== undefined) {
    if (typeof inline === 'string') return Buffer.from(inline, 'utf8');
    if (inline instanceof Uint8Array) return Buffer.from(inline);
    throw new TypeError(
      `${what}: ${inlineName} must be PEM text (a string or bytes), got ${describe(inline)}`,
    );
  }
  if (file !== undefined) {
    if (typeof file !== 'string' || file === '') {
      throw new TypeError(`${what}: ${fileName} must be a file path`);
    }
    return readBoundedFileSync(file, { maxBytes: MAX_PEM_FILE_BYTES }).data;
  }
  return null;
}

function readCertifiedKey(what: string, given: KeyAndCertificate): CertifiedKey {
  const pair = given as KeyAndCertificate | null;
  if (typeof pair !== 'object' || pair === null) {
    throw new TypeError(
      `${what}: expected { key | keyFile, cert | certFile }, got ${describe(pair)}`,
    );
  }
  const key = pemFrom(what, pair.key, pair.keyFile, 'key', 'keyFile');
  const cert = pemFrom(what, pair.cert, pair.certFile, 'cert', 'certFile');
  const chain = pemFrom(what, pair.chain, pair.chainFile, 'chain', 'chainFile');
  if (key === null) throw new TypeError(`${what}: a private key is needed (key or keyFile)`);
  if (cert === null) throw new TypeError(`${what}: a certificate is needed (cert or certFile)`);
  const source = pair.certFile ?? 'cert';
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new TypeError(`${what}: ${source} is not a PEM certificate`, { cause: err });
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new TypeError(`${what}: ${pair.keyFile ?? 'key'} is not an unencrypted PEM private key`, {
      cause: err,
    });
  }
  if (!certificate.checkPrivateKey(keyObject)) {
    throw new TypeError(
      `${what}: the private key (${pair.keyFile ?? 'key'}) does not belong to the certificate (${source})`,
    );
  }
  if (chain !== null) {
    checkCertificates(`${what}: ${pair.chainFile ?? 'chain'}`, chain);
  }
  const full = chain === null ? cert : Buffer.concat([cert, Buffer.from('\n'), chain]);
  return Object.freeze({ key, cert: full, certificate });
}

function readTrustRoot(what: string, init: TrustRoot): Buffer | null {
  const pem = pemFrom(what, init.trustRoot, init.trustRootFile, 'trustRoot', 'trustRootFile');
  if (pem !== null) checkCertificates(`${what}: ${init.trustRootFile ?? 'trustRoot'}`, pem);
  return pem;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle parses, and there is at least one. */
function checkCertificates(what: string, pem: Buffer): void {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TypeError(`${what} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new TypeError(`${what} holds a certificate that does not parse`, { cause: err });
    }
  }
}

function checkAlpn(what: string, given: readonly string[] | undefined): readonly string[] {
  const alpn: unknown = given;
  if (alpn === undefined) return Object.freeze([]);
  if (!Array.isArray(alpn)) {
    throw new TypeError(`${what}: alpnProtocols must be an array of strings`);
  }
  const names: string[] = [];
  for (const name of alpn as unknown[]) {
    if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) > 255) {
      throw new TypeError(
        `${what}: each ALPN protocol must be a string of 1 to 255 bytes, got ${JSON.stringify(name)}`,
      );
    }
    names.push(name);
  }
  return Object.freeze(names);
}

function checkMinVersion(what: string, given: TLSVersion | undefined): TLSVersion {
  const version: unknown = given;
  if (version === undefined) return 'TLSv1.2';
  if (version !== 'TLSv1.2' && version !== 'TLSv1.3') {
    throw new TypeError(
      `${what}: minVersion must be 'TLSv1.2' or 'TLSv1.3' (older versions are not offered), got ${JSON.stringify(version)}`,
    );
  }
  return version;
}
