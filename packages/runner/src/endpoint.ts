/**
 * Server endpoint strings in Twisted's strports syntax, parsed without I/O:
 * `tcp:8007`, `tcp:8007:interface=127.0.0.1:backlog=10`, `tcp:port=0`, and
 * TLS as `ssl:8443:privateKey=key.pem:certKey=cert.pem` (with optional
 * `extraCertChain`, `caCerts` + `clientCertificates`, `alpn`, `minVersion`).
 * The result is a plain description; an `ssl:` endpoint's files are named,
 * not read (serverTLSOptionsFor() in tls-files.ts reads them).
 *
 * Fields are separated by `:`; within a field the first `=` separates the
 * name from the value. A backslash escapes the next character, so
 * `interface=\:\:1` is `::1` and `privateKey=a\=b.pem` is `a=b.pem` (quoted on
 * a shell command line, which would otherwise eat the backslashes).
 *
 * Tests: test/endpoint.test.ts
 * @module
 */
import { TorsionError, type TLSVersion } from '@torsion/core';

/** A parsed TCP server endpoint. */
export interface TCPServerEndpoint {
  readonly type: 'tcp';
  readonly port: number;
  /** Address to bind; `''` means every interface. */
  readonly interface: string;
  readonly backlog: number;
}

/**
 * A parsed TLS server endpoint (`ssl:`). File paths are as written, relative
 * ones to be resolved from the runner's working directory.
 */
export interface SSLServerEndpoint {
  readonly type: 'ssl';
  readonly port: number;
  /** Address to bind; `''` means every interface. */
  readonly interface: string;
  readonly backlog: number;
  /** PEM file holding the private key (`privateKey=`). */
  readonly privateKey: string;
  /** PEM file holding the certificate (`certKey=`); the `privateKey` file when not given, which then holds both. */
  readonly certKey: string;
  /** PEM file of intermediate certificates sent after the certificate (`extraCertChain=`), or `null`. */
  readonly extraCertChain: string | null;
  /** PEM file of the CAs that sign client certificates (`caCerts=`), or `null`. */
  readonly caCerts: string | null;
  /** Whether clients are asked for a certificate (`clientCertificates=request|require`); `'none'` by default. */
  readonly clientCertificates: 'none' | 'request' | 'require';
  /** ALPN protocols, most preferred first (`alpn=h2,http/1.1`); empty for none. */
  readonly alpn: readonly string[];
  /** The oldest TLS version accepted (`minVersion=`); `'TLSv1.2'` by default. */
  readonly minVersion: TLSVersion;
}

/** A server endpoint Torsion can listen on. */
export type ServerEndpoint = TCPServerEndpoint | SSLServerEndpoint;

/** An endpoint string that cannot be used; the message names what is wrong. */
export class EndpointError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_ENDPOINT';
}

/** Twisted's TCP defaults (endpoints.py): all interfaces, backlog 50. */
const DEFAULT_BACKLOG = 50;

/**
 * How to get a `:`, `=` or `\` into a value past the shell, for error messages.
 * @internal
 */
export const QUOTING_HINT =
  "a ':', '=' or '\\' inside a value needs a backslash before it, and the endpoint quoted so the shell keeps the backslashes";

/**
 * One `:`-separated field: `name=value`, or a positional value (`name` null).
 * @internal
 */
export interface Field {
  readonly name: string | null;
  readonly value: string;
}

/**
 * Splits on unescaped colons, and each field at its first unescaped `=`,
 * removing the escapes (Twisted's strports tokenizer does the same).
 * @internal
 */
export function splitFields(description: string): Field[] {
  const fields: Field[] = [];
  let name: string | null = null;
  let current = '';
  for (let i = 0; i < description.length; i++) {
    const char = description.charAt(i);
    if (char === '\\') {
      const next = description.charAt(i + 1);
      if (next === '') {
        throw new EndpointError(
          `endpoint '${description}' ends with a lone backslash; ${QUOTING_HINT}`,
        );
      }
      current += next;
      i++;
    } else if (char === ':') {
      fields.push({ name, value: current });
      name = null;
      current = '';
    } else if (char === '=' && name === null) {
      name = current;
      current = '';
    } else {
      current += char;
    }
  }
  fields.push({ name, value: current });
  return fields;
}

/** Backslash-escapes `\`, `:` and `=` so that `value` is read back as one field value. */
export function escapeEndpointValue(value: string): string {
  return value.replace(/[\\:=]/g, '\\$&');
}

/** @internal */
export function parseInteger(
  description: string,
  what: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new EndpointError(
      `endpoint '${description}': ${what} must be an integer from ${String(min)} to ${String(max)}, got '${text}'`,
    );
  }
  return value;
}

/** Options Twisted's ssl: strport takes that Torsion does not, and why. */
const UNSUPPORTED_SSL_OPTIONS: Readonly<Record<string, string>> = {
  sslmethod: 'Torsion offers TLS 1.2 and 1.3 only; use minVersion=TLSv1.3 to refuse TLS 1.2',
  dhParameters: 'Torsion uses ECDHE key exchange, which needs no DH parameters',
};

/** @internal */
export interface Fields {
  readonly positional: string[];
  readonly named: Map<string, string>;
}

/**
 * Sorts fields into positional and named ones, refusing unknown and repeated names.
 * @internal
 */
export function collectFields(
  description: string,
  type: string,
  fields: readonly Field[],
  known: readonly string[],
  unsupported: Readonly<Record<string, string>> = {},
): Fields {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const { name, value } of fields) {
    if (name === null) {
      positional.push(value);
      continue;
    }
    if (!known.includes(name)) {
      const why = Object.hasOwn(unsupported, name) ? unsupported[name] : undefined;
      if (why !== undefined) {
        throw new EndpointError(`endpoint '${description}': ${name}= is not supported: ${why}`);
      }
      const similar = known.find((k) => k.toLowerCase() === name.toLowerCase());
      const hint = similar === undefined ? '' : `; did you mean '${similar}'?`;
      throw new EndpointError(
        `endpoint '${description}': unknown ${type} option '${name}' (known: ${known.join(', ')})${hint}`,
      );
    }
    if (named.has(name))
      throw new EndpointError(`endpoint '${description}': '${name}' given twice`);
    named.set(name, value);
  }
  return { positional, named };
}

/** The port, interface and backlog every listening endpoint has. */
function parseListening(
  description: string,
  { positional, named }: Fields,
  usage: string,
): { port: number; interface: string; backlog: number } {
  if (positional.length > 1) {
    // `interface=\:\:1` typed unquoted reaches us as `interface=::1`: the
    // shell ate the backslashes, and the address fell apart into fields.
    const ssl = usage.startsWith('ssl');
    const example = ssl ? 'ssl:8443:privateKey=key.pem:interface' : 'tcp:8007:interface';
    const hint = named.has('interface')
      ? `; an IPv6 address needs its colons escaped, and the endpoint quoted so the shell keeps the backslashes: '${example}=\\:\\:1'`
      : named.size > 0
        ? `; ${QUOTING_HINT}${ssl ? ": 'ssl:8443:privateKey=my\\:key.pem'" : ''}`
        : '';
    throw new EndpointError(
      `endpoint '${description}': too many positional fields (expected ${usage})${hint}`,
    );
  }
  if (named.get('interface') === '') {
    throw new EndpointError(
      `endpoint '${description}': interface= needs an address; leave it out to listen on every interface`,
    );
  }
  const [positionalPort] = positional;
  if (positionalPort !== undefined && named.has('port')) {
    throw new EndpointError(`endpoint '${description}': the port is given twice`);
  }
  const portText = positionalPort ?? named.get('port');
  if (portText === undefined || portText === '') {
    const type = usage.slice(0, usage.indexOf(':'));
    throw new EndpointError(
      `endpoint '${description}': ${type === 'ssl' ? 'an' : 'a'} ${type} endpoint needs a port (${type}:PORT)`,
    );
  }
  const backlogText = named.get('backlog');
  return {
    port: parseInteger(description, 'port', portText, 0, 65535),
    interface: named.get('interface') ?? '',
    backlog:
      backlogText === undefined
        ? DEFAULT_BACKLOG
        : parseInteger(description, 'backlog', backlogText, 1, 65535),
  };
}

const TCP_OPTIONS = ['port', 'interface', 'backlog'] as const;
const TCP_USAGE = 'tcp:PORT[:interface=ADDR][:backlog=N]';

function parseTCP(description: string, fields: readonly Field[]): TCPServerEndpoint {
  const collected = collectFields(description, 'tcp', fields, TCP_OPTIONS);
  return { type: 'tcp', ...parseListening(description, collected, TCP_USAGE) };
}

const SSL_OPTIONS = [
  'port',
  'privateKey',
  'certKey',
  'extraCertChain',
  'interface',
  'backlog',
  'caCerts',
  'clientCertificates',
  'alpn',
  'minVersion',
] as const;
const SSL_USAGE =
  'ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:interface=ADDR][:backlog=N]';

/**
 * A named file, or null when absent; present but empty is an error naming the field.
 * @internal
 */
export function fileField(
  description: string,
  named: Map<string, string>,
  name: string,
): string | null {
  const value = named.get(name);
  if (value === '') {
    throw new EndpointError(`endpoint '${description}': ${name}= needs a file path`);
  }
  return value ?? null;
}

/** @internal */
export function parseAlpn(description: string, text: string | undefined): readonly string[] {
  if (text === undefined) return [];
  const names = text.split(',');
  for (const name of names) {
    // ALPN names are 1 to 255 bytes on the wire (RFC 7301).
    if (name === '' || Buffer.byteLength(name) > 255) {
      throw new EndpointError(
        `endpoint '${description}': alpn= must be protocol names of 1 to 255 bytes separated by commas (e.g. alpn=h2,http/1.1), got '${text}'`,
      );
    }
  }
  return names;
}

/** @internal */
export function parseMinVersion(description: string, text: string | undefined): TLSVersion {
  if (text === undefined) return 'TLSv1.2';
  const version = (['TLSv1.2', 'TLSv1.3'] as const).find(
    (v) => v.toLowerCase() === text.toLowerCase(),
  );
  if (version === undefined) {
    throw new EndpointError(
      `endpoint '${description}': minVersion must be TLSv1.2 or TLSv1.3 (older versions are not offered), got '${text}'`,
    );
  }
  return version;
}

function parseSSL(description: string, fields: readonly Field[]): SSLServerEndpoint {
  const collected = collectFields(description, 'ssl', fields, SSL_OPTIONS, UNSUPPORTED_SSL_OPTIONS);
  const { named } = collected;
  const listening = parseListening(description, collected, SSL_USAGE);
  const privateKey = fileField(description, named, 'privateKey');
  if (privateKey === null) {
    throw new EndpointError(
      `endpoint '${description}': an ssl endpoint needs privateKey=FILE (a PEM private key; add certKey=FILE unless that file holds the certificate too)`,
    );
  }
  const caCerts = fileField(description, named, 'caCerts');
  const clientText = named.get('clientCertificates');
  let clientCertificates: SSLServerEndpoint['clientCertificates'] = 'none';
  if (clientText !== undefined) {
    if (clientText !== 'none' && clientText !== 'request' && clientText !== 'require') {
      throw new EndpointError(
        `endpoint '${description}': clientCertificates must be none, request or require, got '${clientText}'`,
      );
    }
    clientCertificates = clientText;
  }
  if (clientCertificates !== 'none' && caCerts === null) {
    throw new EndpointError(
      `endpoint '${description}': clientCertificates=${clientCertificates} needs caCerts=FILE (the CA certificates that sign client certificates)`,
    );
  }
  if (clientCertificates === 'none' && caCerts !== null) {
    throw new EndpointError(
      `endpoint '${description}': caCerts= verifies client certificates; add clientCertificates=request or clientCertificates=require`,
    );
  }
  return {
    type: 'ssl',
    ...listening,
    privateKey,
    // Twisted: "certKey defaults to privateKey", a file holding both.
    certKey: fileField(description, named, 'certKey') ?? privateKey,
    extraCertChain: fileField(description, named, 'extraCertChain'),
    caCerts,
    clientCertificates,
    alpn: parseAlpn(description, named.get('alpn')),
    minVersion: parseMinVersion(description, named.get('minVersion')),
  };
}

/**
 * Parses a server endpoint string: `tcp:…` or `ssl:…`.
 * @throws EndpointError naming what is wrong (unknown type, bad port, unknown option…).
 */
export function parseServerEndpoint(description: string): ServerEndpoint {
  const [typeField, ...fields] = splitFields(description);
  // `tcp=80` or `=80`: a name where the type belongs.
  const type = typeField?.name === null ? typeField.value : '';
  switch (type.toLowerCase()) {
    case 'tcp':
      return parseTCP(description, fields);
    case 'ssl':
      return parseSSL(description, fields);
    case 'unix':
      throw new EndpointError(
        `endpoint '${description}': unix endpoints are not supported yet (Torsion has no UNIX socket transport)`,
      );
    case '':
      throw new EndpointError(
        `endpoint '${description}': missing the endpoint type (e.g. tcp:8007)`,
      );
    default:
      throw new EndpointError(
        `endpoint '${description}': unknown endpoint type '${type}' (supported: tcp, ssl)`,
      );
  }
}

/**
 * The endpoint as a strports string (for logs), which parseServerEndpoint()
 * reads back as the same endpoint. Options at their defaults are left out.
 */
export function formatServerEndpoint(endpoint: ServerEndpoint): string {
  const parts: string[] = [endpoint.type, String(endpoint.port)];
  const add = (name: string, value: string): void => {
    parts.push(`${name}=${escapeEndpointValue(value)}`);
  };
  if (endpoint.type === 'ssl') {
    add('privateKey', endpoint.privateKey);
    if (endpoint.certKey !== endpoint.privateKey) add('certKey', endpoint.certKey);
    if (endpoint.extraCertChain !== null) add('extraCertChain', endpoint.extraCertChain);
  }
  if (endpoint.interface !== '') add('interface', endpoint.interface);
  if (endpoint.backlog !== DEFAULT_BACKLOG) add('backlog', String(endpoint.backlog));
  if (endpoint.type === 'ssl') {
    if (endpoint.caCerts !== null) add('caCerts', endpoint.caCerts);
    if (endpoint.clientCertificates !== 'none')
      add('clientCertificates', endpoint.clientCertificates);
    if (endpoint.alpn.length > 0) add('alpn', endpoint.alpn.join(','));
    if (endpoint.minVersion !== 'TLSv1.2') add('minVersion', endpoint.minVersion);
  }
  return parts.join(':');
}
