/**
 * Client endpoint strings, Twisted's `clientFromString` syntax, parsed
 * without I/O: `tcp:example.com:8007[:timeout=30][:bindAddress=ADDR]` and
 * TLS as `tls:example.com:8443[:caCerts=ca.pem][:certificate=client.pem
 * [:privateKey=client.key]][:alpn=h2][:minVersion=TLSv1.3]`. `ssl:` is read
 * as `tls:`. Unlike Twisted's old `ssl:` client, a TLS client endpoint always
 * verifies the server's certificate and host name (the system's roots unless
 * `caCerts`/`trustRoots` names others): there is no field to turn it off.
 * connectEndpoint() (connect-endpoint.ts) reads the files and connects.
 *
 * Tests: test/client-endpoint.test.ts
 * @module
 */
import type { TLSVersion } from '@torsion/core';
import {
  collectFields,
  EndpointError,
  escapeEndpointValue,
  fileField,
  parseAlpn,
  parseInteger,
  parseMinVersion,
  splitFields,
  type Field,
} from './endpoint.js';

/** A parsed TCP client endpoint. */
export interface TCPClientEndpoint {
  readonly type: 'tcp';
  /** Host name or IP address to connect to. */
  readonly host: string;
  readonly port: number;
  /** Seconds the connection attempt may take (`timeout=`); 30 by default, as in Twisted. */
  readonly timeout: number;
  /** Local address to connect from (`bindAddress=`), or `null`. */
  readonly bindAddress: string | null;
}

/** A parsed TLS client endpoint (`tls:`, or Twisted's older `ssl:`). */
export interface TLSClientEndpoint extends Omit<TCPClientEndpoint, 'type'> {
  readonly type: 'tls';
  /** PEM file of the CA certificates to trust (`caCerts=` or Twisted's `trustRoots=`); `null`: the system's roots. */
  readonly caCerts: string | null;
  /** PEM file of the client certificate to present (`certificate=`), or `null`. */
  readonly certificate: string | null;
  /** PEM file of the client certificate's key (`privateKey=`); the `certificate` file when not given. */
  readonly privateKey: string | null;
  /** ALPN protocols to offer, most preferred first (`alpn=`). */
  readonly alpn: readonly string[];
  /** The oldest TLS version accepted (`minVersion=`); `'TLSv1.2'` by default. */
  readonly minVersion: TLSVersion;
}

/** An endpoint to connect to. */
export type ClientEndpoint = TCPClientEndpoint | TLSClientEndpoint;

/** Twisted's client default: 30 seconds to connect. */
const DEFAULT_TIMEOUT = 30;

const TCP_OPTIONS = ['host', 'port', 'timeout', 'bindAddress'] as const;
const TLS_OPTIONS = [
  ...TCP_OPTIONS,
  'caCerts',
  'trustRoots',
  'certificate',
  'privateKey',
  'alpn',
  'minVersion',
] as const;

/** Fields of Twisted's client strings that Torsion does not take, and why. */
const UNSUPPORTED_TLS_OPTIONS: Readonly<Record<string, string>> = {
  endpoint: 'TLS over another endpoint type is not available; give the host and port',
  caCertsDir: 'give caCerts=FILE, one PEM file holding the CA certificates',
  certKey: 'give certificate=FILE (and privateKey=FILE unless that file holds the key too)',
  sslmethod: 'Torsion offers TLS 1.2 and 1.3 only; use minVersion=TLSv1.3 to refuse TLS 1.2',
};

function parseTimeout(description: string, text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new EndpointError(
      `endpoint '${description}': timeout must be a number of seconds above 0, got '${text}'`,
    );
  }
  return value;
}

/** Host, port, timeout and bind address, which every client endpoint has. */
function parseConnecting(
  description: string,
  type: string,
  positional: readonly string[],
  named: ReadonlyMap<string, string>,
): Omit<TCPClientEndpoint, 'type'> {
  // Twisted's order: `tcp:HOST:PORT`; with `host=` named, one positional field is the port.
  let hostText = named.get('host');
  let portText = named.get('port');
  const given = [...positional];
  if (hostText === undefined && given.length > 0) hostText = given.shift();
  if (portText === undefined && given.length > 0) portText = given.shift();
  if (given.length > 0) {
    // What the shell leaves of an unquoted `tls:\:\:1:8443`: groups of hex digits.
    const hint = positional.every((field) => /^[0-9a-f]{0,4}$/i.test(field))
      ? `; an IPv6 address needs its colons escaped, and the endpoint quoted so the shell keeps the backslashes: '${type}:\\:\\:1:8443'`
      : '';
    throw new EndpointError(
      `endpoint '${description}': too many positional fields (expected ${type}:HOST:PORT, or host= and port= given once each)${hint}`,
    );
  }
  if (hostText === undefined || hostText === '') {
    throw new EndpointError(
      `endpoint '${description}': a ${type} client endpoint needs a host (${type}:HOST:PORT)`,
    );
  }
  if (portText === undefined || portText === '') {
    throw new EndpointError(
      `endpoint '${description}': a ${type} client endpoint needs a port (${type}:HOST:PORT)`,
    );
  }
  const bindAddress = named.get('bindAddress');
  if (bindAddress === '') {
    throw new EndpointError(
      `endpoint '${description}': bindAddress= needs an address; leave it out to let the system choose`,
    );
  }
  return {
    host: hostText,
    // Port 0 cannot be connected to.
    port: parseInteger(description, 'port', portText, 1, 65535),
    timeout: parseTimeout(description, named.get('timeout')),
    bindAddress: bindAddress ?? null,
  };
}

function parseClientTLS(
  description: string,
  type: string,
  fields: readonly Field[],
): TLSClientEndpoint {
  const { positional, named } = collectFields(
    description,
    type,
    fields,
    TLS_OPTIONS,
    UNSUPPORTED_TLS_OPTIONS,
  );
  if (named.has('caCerts') && named.has('trustRoots')) {
    throw new EndpointError(
      `endpoint '${description}': caCerts and trustRoots are the same field; give one`,
    );
  }
  const caCerts =
    fileField(description, named, 'caCerts') ?? fileField(description, named, 'trustRoots');
  const certificate = fileField(description, named, 'certificate');
  const privateKey = fileField(description, named, 'privateKey');
  if (privateKey !== null && certificate === null) {
    throw new EndpointError(
      `endpoint '${description}': privateKey= is the key of a client certificate; add certificate=FILE`,
    );
  }
  return {
    type: 'tls',
    ...parseConnecting(description, type, positional, named),
    caCerts,
    certificate,
    // Twisted: without privateKey, the key is read from the certificate file.
    privateKey: privateKey ?? certificate,
    alpn: parseAlpn(description, named.get('alpn')),
    minVersion: parseMinVersion(description, named.get('minVersion')),
  };
}

/**
 * Parses a client endpoint string: `tcp:HOST:PORT…`, `tls:HOST:PORT…`, or
 * `ssl:…` (read as `tls:`).
 * @throws EndpointError naming what is wrong.
 */
export function parseClientEndpoint(description: string): ClientEndpoint {
  const [typeField, ...fields] = splitFields(description);
  const type = typeField?.name === null ? typeField.value.toLowerCase() : '';
  switch (type) {
    case 'tcp': {
      const { positional, named } = collectFields(description, 'tcp', fields, TCP_OPTIONS);
      return { type: 'tcp', ...parseConnecting(description, 'tcp', positional, named) };
    }
    case 'tls':
    case 'ssl':
      return parseClientTLS(description, type, fields);
    case '':
      throw new EndpointError(
        `endpoint '${description}': missing the endpoint type (e.g. tcp:localhost:8007 or tls:example.com:8443)`,
      );
    default:
      throw new EndpointError(
        `endpoint '${description}': unknown client endpoint type '${type}' (supported: tcp, tls, ssl)`,
      );
  }
}

/**
 * The endpoint as a `tcp:` or `tls:` string (for logs), which
 * parseClientEndpoint() reads back as the same endpoint. Defaults are left out.
 */
export function formatClientEndpoint(endpoint: ClientEndpoint): string {
  const parts = [endpoint.type, escapeEndpointValue(endpoint.host), String(endpoint.port)];
  const add = (name: string, value: string): void => {
    parts.push(`${name}=${escapeEndpointValue(value)}`);
  };
  if (endpoint.type === 'tls') {
    if (endpoint.caCerts !== null) add('caCerts', endpoint.caCerts);
    if (endpoint.certificate !== null) add('certificate', endpoint.certificate);
    if (endpoint.privateKey !== null && endpoint.privateKey !== endpoint.certificate)
      add('privateKey', endpoint.privateKey);
    if (endpoint.alpn.length > 0) add('alpn', endpoint.alpn.join(','));
    if (endpoint.minVersion !== 'TLSv1.2') add('minVersion', endpoint.minVersion);
  }
  if (endpoint.timeout !== DEFAULT_TIMEOUT) add('timeout', String(endpoint.timeout));
  if (endpoint.bindAddress !== null) add('bindAddress', endpoint.bindAddress);
  return parts.join(':');
}
