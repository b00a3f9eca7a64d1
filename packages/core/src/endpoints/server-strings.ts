/**
 * The built-in server endpoint types of the string grammar: `tcp:`, `tcp6:`,
 * `ssl:` (and `tls:`), `unix:`, `systemd:` and the datagram `udp:`. Each
 * parses without I/O into a plain description; building the endpoint is a
 * separate step (it reads an `ssl:` endpoint's files, and checks that the
 * reactor can serve the type).
 *
 * Tests: test/endpoints/server-string.test.ts, test/endpoints/tls-files.test.ts
 * @module
 */
import { resolve } from 'node:path';
import { EndpointError, QUOTING_HINT } from './endpoint-error.js';
import type { EndpointBuildContext, ServerEndpointType } from './endpoint-types.js';
import { reactorName } from './endpoint-types.js';
import { CertificateFilesError, certificateProblem } from './certificate-files-error.js';
import {
  collectFields,
  fileField,
  formatFields,
  parseAlpn,
  parseBoolean,
  parseInteger,
  parseMinVersion,
  type Field,
  type Fields,
} from './strports.js';
import { serverTLSOptions, type ServerTLSOptions, type TLSVersion } from '../tls-options.js';
import type {
  AdoptedSocketFamily,
  IReactorSocket,
  IReactorSSL,
  IReactorTCP,
  IReactorUDP,
  IReactorUNIX,
} from '../interfaces.js';
import { TCP4ServerEndpoint, TCP6ServerEndpoint } from './tcp-server-endpoint.js';
import { SSL4ServerEndpoint } from './ssl-server-endpoint.js';
import { UNIXServerEndpoint } from './unix-endpoints.js';
import { systemdEndpoint, systemdEndpointNamed } from './systemd-endpoint.js';
import { UDPServerEndpoint } from './udp-server-endpoint.js';
import { DEFAULT_LISTEN_BACKLOG } from '../reactor-kit/argument-checks.js';

/** `tcp:PORT`: TCP on every interface (the reactor's default) or `interface`. */
export interface TCPServerDescription {
  readonly type: 'tcp';
  readonly port: number;
  /** Address to bind; `''` means every interface. */
  readonly interface: string;
  readonly backlog: number;
}

/** `tcp6:PORT`: TCP over IPv6, on `::` unless `interface` says. */
export interface TCP6ServerDescription {
  readonly type: 'tcp6';
  readonly port: number;
  readonly interface: string;
  readonly backlog: number;
}

/**
 * `ssl:PORT:privateKey=FILE…` (or `tls:`). File paths are as written,
 * relative ones read from the build context's `cwd`.
 */
export interface SSLServerDescription {
  readonly type: 'ssl';
  readonly port: number;
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

/** `unix:PATH[:mode=0666][:lockfile=1][:backlog=N]`; a path starting with `@` is an abstract name. */
export interface UNIXServerDescription {
  readonly type: 'unix';
  /** The socket file; an abstract name starts with NUL (written `@name`). */
  readonly path: string;
  /** Permission bits (`mode=`, octal), or null for the reactor's default. */
  readonly mode: number | null;
  /** Keep a `PATH.lock` file with this process's PID (`lockfile=1`, Twisted's `wantPID`). */
  readonly wantPID: boolean;
  readonly backlog: number;
}

/** `systemd:domain=INET:index=0` or `systemd:domain=INET:name=NAME`: a listening socket inherited from systemd. */
export interface SystemdServerDescription {
  readonly type: 'systemd';
  readonly domain: AdoptedSocketFamily;
  /** Which inherited socket by position (0 is descriptor 3), or `null` when `name` picks it. */
  readonly index: number | null;
  /** Which inherited socket by its name in `LISTEN_FDNAMES`, or `null` when `index` picks it. */
  readonly name: string | null;
}

/** `udp:PORT[:interface=ADDR][:maxPacketSize=N]`: a datagram port. */
export interface UDPServerDescription {
  readonly type: 'udp';
  readonly port: number;
  readonly interface: string;
  /** Largest datagram read, or null for the reactor's default (8192). */
  readonly maxPacketSize: number | null;
}

/** Every built-in server description. */
export type BuiltInServerDescription =
  | TCPServerDescription
  | TCP6ServerDescription
  | SSLServerDescription
  | UNIXServerDescription
  | SystemdServerDescription
  | UDPServerDescription;

/** The endpoints' default backlog: the reactors' (4096, not Twisted's 50 nor Node's 511: see DEFAULT_LISTEN_BACKLOG). */
export const DEFAULT_BACKLOG = DEFAULT_LISTEN_BACKLOG;

/** The port, interface and backlog every listening INET endpoint has. */
function parseListening(
  description: string,
  { positional, named }: Fields,
  usage: string,
): { port: number; interface: string; backlog: number } {
  const type = usage.slice(0, usage.indexOf(':'));
  if (positional.length > 1) {
    // `interface=\:\:1` typed unquoted reaches us as `interface=::1`: the
    // shell ate the backslashes, and the address fell apart into fields.
    const ssl = type === 'ssl';
    const example = ssl ? 'ssl:8443:privateKey=key.pem:interface' : `${type}:8007:interface`;
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

/** @throws EndpointError naming the reactor, the endpoint and the interface it lacks. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T names the contract the check establishes
function requireMethod<T>(reactor: object, method: string, contract: string, where: string): T {
  if (typeof (reactor as Record<string, unknown>)[method] !== 'function') {
    throw new EndpointError(
      `reactor ${reactorName(reactor)} cannot serve ${where}: it does not implement ${method} (${contract})`,
    );
  }
  return reactor as T;
}

const TCP_OPTIONS = ['port', 'interface', 'backlog'] as const;

function listeningNamed(d: { interface: string; backlog: number }): [string, string | undefined][] {
  return [
    ['interface', d.interface === '' ? undefined : d.interface],
    ['backlog', d.backlog === DEFAULT_BACKLOG ? undefined : String(d.backlog)],
  ];
}

/** `tcp:`. */
export const TCP_SERVER_TYPE: ServerEndpointType<TCPServerDescription> = {
  kind: 'stream',
  usage: 'tcp:PORT[:interface=ADDR][:backlog=N]',
  parse(fields, description) {
    const collected = collectFields(description, 'tcp', fields, TCP_OPTIONS);
    return { type: 'tcp', ...parseListening(description, collected, this.usage) };
  },
  format(d) {
    return formatFields('tcp', [String(d.port)], listeningNamed(d));
  },
  build(reactor, d) {
    const tcp = requireMethod<IReactorTCP>(reactor, 'listenTCP', 'IReactorTCP', this.format(d));
    return new TCP4ServerEndpoint(tcp, d.port, { interface: d.interface, backlog: d.backlog });
  },
};

/** `tcp6:`. */
export const TCP6_SERVER_TYPE: ServerEndpointType<TCP6ServerDescription> = {
  kind: 'stream',
  usage: 'tcp6:PORT[:interface=ADDR][:backlog=N]',
  parse(fields, description) {
    const collected = collectFields(description, 'tcp6', fields, TCP_OPTIONS);
    const listening = parseListening(description, collected, this.usage);
    return {
      type: 'tcp6',
      ...listening,
      interface: listening.interface === '' ? '::' : listening.interface,
    };
  },
  format(d) {
    return formatFields(
      'tcp6',
      [String(d.port)],
      [
        ['interface', d.interface === '::' ? undefined : d.interface],
        ['backlog', d.backlog === DEFAULT_BACKLOG ? undefined : String(d.backlog)],
      ],
    );
  },
  build(reactor, d) {
    const tcp = requireMethod<IReactorTCP>(reactor, 'listenTCP', 'IReactorTCP', this.format(d));
    return new TCP6ServerEndpoint(tcp, d.port, { interface: d.interface, backlog: d.backlog });
  },
};

/** Options Twisted's ssl: strport takes that Torsion does not, and why. */
const UNSUPPORTED_SSL_OPTIONS: Readonly<Record<string, string>> = {
  sslmethod: 'Torsion offers TLS 1.2 and 1.3 only; use minVersion=TLSv1.3 to refuse TLS 1.2',
  dhParameters: 'Torsion uses ECDHE key exchange, which needs no DH parameters',
};

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

function parseSSL(
  fields: readonly Field[],
  description: string,
  usage: string,
): SSLServerDescription {
  const collected = collectFields(description, 'ssl', fields, SSL_OPTIONS, UNSUPPORTED_SSL_OPTIONS);
  const { named } = collected;
  const listening = parseListening(description, collected, usage);
  const privateKey = fileField(description, named, 'privateKey');
  if (privateKey === null) {
    throw new EndpointError(
      `endpoint '${description}': an ssl endpoint needs privateKey=FILE (a PEM private key; add certKey=FILE unless that file holds the certificate too)`,
    );
  }
  const caCerts = fileField(description, named, 'caCerts');
  const clientText = named.get('clientCertificates');
  let clientCertificates: SSLServerDescription['clientCertificates'] = 'none';
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

function formatSSL(d: SSLServerDescription): string {
  return formatFields(
    'ssl',
    [String(d.port)],
    [
      ['privateKey', d.privateKey],
      ['certKey', d.certKey === d.privateKey ? undefined : d.certKey],
      ['extraCertChain', d.extraCertChain ?? undefined],
      ...listeningNamed(d),
      ['caCerts', d.caCerts ?? undefined],
      ['clientCertificates', d.clientCertificates === 'none' ? undefined : d.clientCertificates],
      ['alpn', d.alpn.length === 0 ? undefined : d.alpn.join(',')],
      ['minVersion', d.minVersion === 'TLSv1.2' ? undefined : d.minVersion],
    ],
  );
}

/**
 * Reads the files of an `ssl:` description (relative paths from `cwd`) into
 * TLS server options; `reload()` on the result reads the same files again.
 * @throws CertificateFilesError naming the endpoint and the file that is
 *   missing, unreadable, not PEM, or whose key does not match its certificate.
 */
export function serverTLSOptionsFor(
  description: SSLServerDescription,
  cwd: string,
): ServerTLSOptions {
  const file = (path: string): string => resolve(cwd, path);
  try {
    return serverTLSOptions({
      keyFile: file(description.privateKey),
      certFile: file(description.certKey),
      ...(description.extraCertChain === null
        ? {}
        : { chainFile: file(description.extraCertChain) }),
      ...(description.caCerts === null ? {} : { trustRootFile: file(description.caCerts) }),
      clientCertificates: description.clientCertificates,
      alpnProtocols: description.alpn,
      minVersion: description.minVersion,
    });
  } catch (err) {
    throw new CertificateFilesError(
      `${formatSSL(description)}: cannot use the certificate files: ${certificateProblem(err)}`,
      { cause: err },
    );
  }
}

/** `ssl:` (and its alias `tls:`). */
export const SSL_SERVER_TYPE: ServerEndpointType<SSLServerDescription> = {
  kind: 'stream',
  usage:
    'ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:interface=ADDR][:backlog=N]',
  parse(fields, description) {
    return parseSSL(fields, description, this.usage);
  },
  format: formatSSL,
  build(reactor, d, context: EndpointBuildContext) {
    // Checked before the files are read: an ssl: endpoint must never fall back to plaintext.
    const ssl = requireMethod<IReactorSSL>(reactor, 'listenSSL', 'IReactorSSL', formatSSL(d));
    const tls = serverTLSOptionsFor(d, context.cwd);
    return new SSL4ServerEndpoint(ssl, d.port, tls, { interface: d.interface, backlog: d.backlog });
  },
};

/** Linux's abstract names are written `@name` (as `ss` and systemd show them); the path holds a NUL. */
function unixPath(text: string): string {
  return text.startsWith('@') ? `\0${text.slice(1)}` : text;
}

/** `unix:`. */
export const UNIX_SERVER_TYPE: ServerEndpointType<UNIXServerDescription> = {
  kind: 'stream',
  usage: 'unix:PATH[:mode=0666][:lockfile=0|1][:backlog=N]',
  parse(fields, description) {
    const { positional, named } = collectFields(description, 'unix', fields, [
      'address',
      'mode',
      'lockfile',
      'wantPID',
      'backlog',
    ]);
    if (positional.length > 1) {
      throw new EndpointError(
        `endpoint '${description}': too many positional fields (expected ${this.usage}); ${QUOTING_HINT}: 'unix:/run/my\\:app.sock'`,
      );
    }
    const [positionalPath] = positional;
    if (positionalPath !== undefined && named.has('address')) {
      throw new EndpointError(`endpoint '${description}': the path is given twice`);
    }
    const path = positionalPath ?? named.get('address');
    if (path === undefined || path === '' || path === '@') {
      throw new EndpointError(
        `endpoint '${description}': a unix endpoint needs a path (unix:PATH)`,
      );
    }
    const modeText = named.get('mode');
    let mode: number | null = null;
    if (modeText !== undefined) {
      if (!/^0?[0-7]{1,4}$/.test(modeText)) {
        throw new EndpointError(
          `endpoint '${description}': mode must be octal permission bits such as 0660, got '${modeText}'`,
        );
      }
      mode = Number.parseInt(modeText, 8);
    }
    if (named.has('lockfile') && named.has('wantPID')) {
      throw new EndpointError(
        `endpoint '${description}': lockfile and wantPID are the same field; give one`,
      );
    }
    const backlogText = named.get('backlog');
    return {
      type: 'unix',
      path: unixPath(path),
      mode,
      wantPID:
        parseBoolean(description, 'lockfile', named.get('lockfile')) ??
        parseBoolean(description, 'wantPID', named.get('wantPID')) ??
        false,
      backlog:
        backlogText === undefined
          ? DEFAULT_BACKLOG
          : parseInteger(description, 'backlog', backlogText, 1, 65535),
    };
  },
  format(d) {
    const path = d.path.startsWith('\0') ? `@${d.path.slice(1)}` : d.path;
    return formatFields(
      'unix',
      [path],
      [
        ['mode', d.mode === null ? undefined : `0${d.mode.toString(8)}`],
        ['lockfile', d.wantPID ? '1' : undefined],
        ['backlog', d.backlog === DEFAULT_BACKLOG ? undefined : String(d.backlog)],
      ],
    );
  },
  build(reactor, d) {
    const unix = requireMethod<IReactorUNIX>(reactor, 'listenUNIX', 'IReactorUNIX', this.format(d));
    return new UNIXServerEndpoint(unix, d.path, {
      backlog: d.backlog,
      wantPID: d.wantPID,
      ...(d.mode === null ? {} : { mode: d.mode }),
    });
  },
};

const DOMAINS: readonly AdoptedSocketFamily[] = ['INET', 'INET6', 'UNIX'];

/** What systemd accepts as a descriptor's name: ASCII but control characters and ':', at most 255. */
const SYSTEMD_NAME = /^[\x20-\x39\x3b-\x7e]{1,255}$/;

/** `systemd:`. */
export const SYSTEMD_SERVER_TYPE: ServerEndpointType<SystemdServerDescription> = {
  kind: 'stream',
  usage: 'systemd:domain=INET|INET6|UNIX:index=N|name=NAME',
  parse(fields, description) {
    const { positional, named } = collectFields(description, 'systemd', fields, [
      'domain',
      'index',
      'name',
    ]);
    if (positional.length > 0 && !(positional.length === 1 && positional[0] === '')) {
      throw new EndpointError(
        `endpoint '${description}': a systemd endpoint takes only named fields (${this.usage})`,
      );
    }
    const domainText = named.get('domain');
    const domain = DOMAINS.find((d) => d === domainText?.toUpperCase());
    if (domain === undefined) {
      throw new EndpointError(
        `endpoint '${description}': domain must be INET, INET6 or UNIX (the inherited socket's address family), got ${domainText === undefined ? 'none' : `'${domainText}'`}`,
      );
    }
    const indexText = named.get('index');
    const name = named.get('name');
    if ((indexText === undefined) === (name === undefined)) {
      throw new EndpointError(
        `endpoint '${description}': a systemd endpoint needs one of index=N (0 for the first socket systemd passed) and name=NAME (its name in LISTEN_FDNAMES)`,
      );
    }
    if (name !== undefined && !SYSTEMD_NAME.test(name)) {
      throw new EndpointError(
        `endpoint '${description}': name must be 1 to 255 ASCII characters, no control characters and no ':' (systemd's rule for FileDescriptorName=)`,
      );
    }
    return {
      type: 'systemd',
      domain,
      index:
        indexText === undefined ? null : parseInteger(description, 'index', indexText, 0, 65535),
      name: name ?? null,
    };
  },
  format(d) {
    return formatFields(
      'systemd',
      [],
      [
        ['domain', d.domain],
        ['index', d.index === null ? undefined : String(d.index)],
        ['name', d.name ?? undefined],
      ],
    );
  },
  build(reactor, d) {
    const socket = requireMethod<IReactorSocket>(
      reactor,
      'adoptStreamPort',
      'IReactorSocket',
      this.format(d),
    );
    if (d.name !== null) return systemdEndpointNamed(socket, d.domain, d.name);
    if (d.index === null) {
      throw new EndpointError(`${this.format(d)}: a systemd endpoint needs an index or a name`);
    }
    return systemdEndpoint(socket, d.domain, d.index);
  },
};

/** `udp:`. */
export const UDP_SERVER_TYPE: ServerEndpointType<UDPServerDescription> = {
  kind: 'datagram',
  usage: 'udp:PORT[:interface=ADDR][:maxPacketSize=N]',
  parse(fields, description) {
    const { positional, named } = collectFields(description, 'udp', fields, [
      'port',
      'interface',
      'maxPacketSize',
    ]);
    const listening = parseListening(description, { positional, named }, this.usage);
    const sizeText = named.get('maxPacketSize');
    return {
      type: 'udp',
      port: listening.port,
      interface: listening.interface,
      maxPacketSize:
        sizeText === undefined
          ? null
          : parseInteger(description, 'maxPacketSize', sizeText, 1, 65535),
    };
  },
  format(d) {
    return formatFields(
      'udp',
      [String(d.port)],
      [
        ['interface', d.interface === '' ? undefined : d.interface],
        ['maxPacketSize', d.maxPacketSize === null ? undefined : String(d.maxPacketSize)],
      ],
    );
  },
  build(reactor, d) {
    const udp = requireMethod<IReactorUDP>(reactor, 'listenUDP', 'IReactorUDP', this.format(d));
    return new UDPServerEndpoint(udp, d.port, {
      ...(d.interface === '' ? {} : { interface: d.interface }),
      ...(d.maxPacketSize === null ? {} : { maxPacketSize: d.maxPacketSize }),
    });
  },
};
