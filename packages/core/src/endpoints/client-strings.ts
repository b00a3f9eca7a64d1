/**
 * The built-in client endpoint types of the string grammar:
 * `tcp:HOST:PORT[:timeout=30][:bindAddress=ADDR]`, `tcp6:` (the same over
 * IPv6), `tls:HOST:PORT[:caCerts=FILE][:certificate=FILE[:privateKey=FILE]]
 * [:alpn=…][:minVersion=…]` (Twisted's older `ssl:` read as `tls:`), and
 * `unix:PATH[:timeout=30][:checkPID=1]`. Parsing is pure; building reads a
 * `tls:` endpoint's files.
 *
 * Unlike Twisted's old `ssl:` client, a TLS client endpoint always verifies
 * the server's certificate and host name (the system's roots unless
 * `caCerts`/`trustRoots` names others): there is no field to turn it off.
 *
 * Tests: test/endpoints/client-string.test.ts, test/endpoints/tls-files.test.ts
 * @module
 */
import { resolve } from 'node:path';
import type { IReactor, IReactorSSL, IReactorUNIX } from '../interfaces.js';
import { optionsForClientTLS, type ClientTLSOptions, type TLSVersion } from '../tls-options.js';
import { CertificateFilesError, certificateProblem } from './certificate-files-error.js';
import { EndpointError } from './endpoint-error.js';
import { reactorName, type ClientEndpointType } from './endpoint-types.js';
import { SSL4ClientEndpoint } from './ssl-client-endpoint.js';
import {
  collectFields,
  fileField,
  formatFields,
  parseAlpn,
  parseBoolean,
  parseInteger,
  parseMinVersion,
  type Field,
} from './strports.js';
import { TCP4ClientEndpoint, TCP6ClientEndpoint } from './tcp-client-endpoint.js';
import { UNIXClientEndpoint } from './unix-endpoints.js';

/** `tcp:HOST:PORT` (or `tcp6:`). */
export interface TCPClientDescription {
  readonly type: 'tcp' | 'tcp6';
  /** Host name or IP address to connect to. */
  readonly host: string;
  readonly port: number;
  /** Seconds the connection attempt may take (`timeout=`); 30 by default, as in Twisted. */
  readonly timeout: number;
  /** Local address to connect from (`bindAddress=`), or `null`. */
  readonly bindAddress: string | null;
}

/** `tls:HOST:PORT…` (or Twisted's older `ssl:`). */
export interface TLSClientDescription extends Omit<TCPClientDescription, 'type'> {
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

/** `unix:PATH`. */
export interface UNIXClientDescription {
  readonly type: 'unix';
  /** The socket file; an abstract name starts with NUL (written `@name`). */
  readonly path: string;
  readonly timeout: number;
  /** Refuse unless `PATH.lock` names a live process (`checkPID=1`). */
  readonly checkPID: boolean;
}

/** Every built-in client description. */
export type BuiltInClientDescription =
  TCPClientDescription | TLSClientDescription | UNIXClientDescription;

/** Twisted's client default: 30 seconds to connect. */
export const DEFAULT_CONNECT_TIMEOUT = 30;

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
  if (text === undefined) return DEFAULT_CONNECT_TIMEOUT;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new EndpointError(
      `endpoint '${description}': timeout must be a number of seconds above 0, got '${text}'`,
    );
  }
  return value;
}

/** Host, port, timeout and bind address, which every INET client endpoint has. */
function parseConnecting(
  description: string,
  type: string,
  positional: readonly string[],
  named: ReadonlyMap<string, string>,
): Omit<TCPClientDescription, 'type'> {
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

function connectingNamed(d: {
  timeout: number;
  bindAddress: string | null;
}): [string, string | undefined][] {
  return [
    ['timeout', d.timeout === DEFAULT_CONNECT_TIMEOUT ? undefined : String(d.timeout)],
    ['bindAddress', d.bindAddress ?? undefined],
  ];
}

function connectOptions(d: { timeout: number; bindAddress: string | null }): {
  timeout: number;
  bindAddress?: { host: string };
} {
  return {
    timeout: d.timeout,
    ...(d.bindAddress === null ? {} : { bindAddress: { host: d.bindAddress } }),
  };
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T names the contract the check establishes
function requireMethod<T>(reactor: object, method: string, contract: string, where: string): T {
  if (typeof (reactor as Record<string, unknown>)[method] !== 'function') {
    throw new EndpointError(
      `reactor ${reactorName(reactor)} cannot connect to ${where}: it does not implement ${method} (${contract})`,
    );
  }
  return reactor as T;
}

function tcpType(type: 'tcp' | 'tcp6'): ClientEndpointType<TCPClientDescription> {
  return {
    usage: `${type}:HOST:PORT[:timeout=SECONDS][:bindAddress=ADDR]`,
    parse(fields, description) {
      const { positional, named } = collectFields(description, type, fields, TCP_OPTIONS);
      return { type, ...parseConnecting(description, type, positional, named) };
    },
    format(d) {
      return formatFields(d.type, [d.host, String(d.port)], connectingNamed(d));
    },
    build(reactor, d) {
      const where = this.format(d);
      const tcp = requireMethod<IReactor>(reactor, 'connectTCP', 'IReactorTCP', where);
      return d.type === 'tcp6'
        ? new TCP6ClientEndpoint(tcp, d.host, d.port, connectOptions(d))
        : new TCP4ClientEndpoint(tcp, d.host, d.port, connectOptions(d));
    },
  };
}

/** `tcp:`. */
export const TCP_CLIENT_TYPE = tcpType('tcp');
/** `tcp6:`. */
export const TCP6_CLIENT_TYPE = tcpType('tcp6');

function parseClientTLS(
  fields: readonly Field[],
  description: string,
  type: string,
): TLSClientDescription {
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

function formatTLS(d: TLSClientDescription): string {
  return formatFields(
    'tls',
    [d.host, String(d.port)],
    [
      ['caCerts', d.caCerts ?? undefined],
      ['certificate', d.certificate ?? undefined],
      [
        'privateKey',
        d.privateKey !== null && d.privateKey !== d.certificate ? d.privateKey : undefined,
      ],
      ['alpn', d.alpn.length === 0 ? undefined : d.alpn.join(',')],
      ['minVersion', d.minVersion === 'TLSv1.2' ? undefined : d.minVersion],
      ...connectingNamed(d),
    ],
  );
}

/**
 * Reads the files of a `tls:` description (relative paths from `cwd`) into
 * client options that verify the server as `description.host`.
 * @throws CertificateFilesError naming the endpoint and the file that cannot be used.
 */
export function clientTLSOptionsFor(
  description: TLSClientDescription,
  cwd: string,
): ClientTLSOptions {
  const file = (path: string): string => resolve(cwd, path);
  try {
    return optionsForClientTLS(description.host, {
      ...(description.caCerts === null ? {} : { trustRootFile: file(description.caCerts) }),
      ...(description.certificate === null
        ? {}
        : {
            clientCertificate: {
              certFile: file(description.certificate),
              keyFile: file(description.privateKey ?? description.certificate),
            },
          }),
      alpnProtocols: description.alpn,
      minVersion: description.minVersion,
    });
  } catch (err) {
    throw new CertificateFilesError(
      `${formatTLS(description)}: cannot use the certificate files: ${certificateProblem(err)}`,
      { cause: err },
    );
  }
}

function tlsType(type: 'tls' | 'ssl'): ClientEndpointType<TLSClientDescription> {
  return {
    usage: `${type}:HOST:PORT[:caCerts=FILE][:certificate=FILE[:privateKey=FILE]][:alpn=PROTO,...][:minVersion=TLSv1.2|TLSv1.3][:timeout=SECONDS][:bindAddress=ADDR]`,
    parse(fields, description) {
      return parseClientTLS(fields, description, type);
    },
    format: formatTLS,
    build(reactor, d, context) {
      // Checked before the files are read, as for servers.
      const ssl = requireMethod<IReactorSSL>(reactor, 'connectSSL', 'IReactorSSL', formatTLS(d));
      return new SSL4ClientEndpoint(
        ssl,
        d.host,
        d.port,
        clientTLSOptionsFor(d, context.cwd),
        connectOptions(d),
      );
    },
  };
}

/** `tls:`. */
export const TLS_CLIENT_TYPE = tlsType('tls');
/** `ssl:`, read as `tls:`. */
export const SSL_CLIENT_TYPE = tlsType('ssl');

/** `unix:`. */
export const UNIX_CLIENT_TYPE: ClientEndpointType<UNIXClientDescription> = {
  usage: 'unix:PATH[:timeout=SECONDS][:checkPID=0|1]',
  parse(fields, description) {
    const { positional, named } = collectFields(description, 'unix', fields, [
      'path',
      'timeout',
      'checkPID',
      'lockfile',
    ]);
    const [first, ...rest] = positional;
    if (rest.length > 0 || (first !== undefined && named.has('path'))) {
      throw new EndpointError(
        `endpoint '${description}': too many positional fields (expected ${this.usage}); a ':' in the path needs a backslash before it, and the endpoint quoted so the shell keeps the backslashes`,
      );
    }
    const path = first ?? named.get('path');
    if (path === undefined || path === '' || path === '@') {
      throw new EndpointError(
        `endpoint '${description}': a unix client endpoint needs a path (unix:PATH)`,
      );
    }
    return {
      type: 'unix',
      path: path.startsWith('@') ? `\0${path.slice(1)}` : path,
      timeout: parseTimeout(description, named.get('timeout')),
      checkPID:
        parseBoolean(description, 'checkPID', named.get('checkPID')) ??
        parseBoolean(description, 'lockfile', named.get('lockfile')) ??
        false,
    };
  },
  format(d) {
    const path = d.path.startsWith('\0') ? `@${d.path.slice(1)}` : d.path;
    return formatFields(
      'unix',
      [path],
      [
        ['timeout', d.timeout === DEFAULT_CONNECT_TIMEOUT ? undefined : String(d.timeout)],
        ['checkPID', d.checkPID ? '1' : undefined],
      ],
    );
  },
  build(reactor, d) {
    const unix = requireMethod<IReactorUNIX>(
      reactor,
      'connectUNIX',
      'IReactorUNIX',
      this.format(d),
    );
    return new UNIXClientEndpoint(unix, d.path, { timeout: d.timeout, checkPID: d.checkPID });
  },
};
