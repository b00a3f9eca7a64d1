/**
 * The endpoint string grammar's registry and its entry points:
 * `serverFromString(reactor, 'tcp:8007')` and `clientFromString(reactor,
 * 'tls:example.com:443')` (Twisted's functions of the same names), each the
 * pure parse (`parseServerDescription`) followed by the build
 * (`buildServerEndpoint`), which reads files and checks the reactor.
 *
 * The built-in types are in the registry from the start; a package adds its
 * own with {@link registerServerEndpointType} / {@link registerClientEndpointType},
 * usually when its module is imported.
 *
 * Tests: test/endpoints/endpoint-registry.test.ts, test/endpoints/server-string.test.ts,
 *   test/endpoints/client-string.test.ts
 * @module
 */
import type {
  IDatagramServerEndpoint,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
} from '../interfaces.js';
import {
  SSL_CLIENT_TYPE,
  TCP6_CLIENT_TYPE,
  TCP_CLIENT_TYPE,
  TLS_CLIENT_TYPE,
  UNIX_CLIENT_TYPE,
} from './client-strings.js';
import { EndpointError } from './endpoint-error.js';
import type {
  ClientEndpointType,
  EndpointBuildContext,
  EndpointDescription,
  ServerEndpointType,
} from './endpoint-types.js';
import {
  SSL_SERVER_TYPE,
  SYSTEMD_SERVER_TYPE,
  TCP6_SERVER_TYPE,
  TCP_SERVER_TYPE,
  UDP_SERVER_TYPE,
  UNIX_SERVER_TYPE,
} from './server-strings.js';
import { splitFields } from './strports.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- a registry holds types of every description */
type AnyServerType = ServerEndpointType<any>;
type AnyClientType = ClientEndpointType<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

const builtInServerTypes = new Map<string, AnyServerType>([
  ['tcp', TCP_SERVER_TYPE],
  ['tcp6', TCP6_SERVER_TYPE],
  ['ssl', SSL_SERVER_TYPE],
  ['tls', SSL_SERVER_TYPE],
  ['unix', UNIX_SERVER_TYPE],
  ['systemd', SYSTEMD_SERVER_TYPE],
  ['udp', UDP_SERVER_TYPE],
]);

const builtInClientTypes = new Map<string, AnyClientType>([
  ['tcp', TCP_CLIENT_TYPE],
  ['tcp6', TCP6_CLIENT_TYPE],
  ['tls', TLS_CLIENT_TYPE],
  ['ssl', SSL_CLIENT_TYPE],
  ['unix', UNIX_CLIENT_TYPE],
]);

/**
 * The types packages registered, kept on `globalThis` under a registered
 * symbol: one table per process even when two copies of @torsion/core are
 * loaded (a plugin's and the runner's), so a type registered through either
 * is seen by both. Built-in types stay each copy's own, so the endpoints a
 * copy builds are of its own classes.
 */
interface RegisteredTypes {
  readonly server: Map<string, AnyServerType>;
  readonly client: Map<string, AnyClientType>;
}
const REGISTERED = Symbol.for('@torsion/core/endpoint-types');
const registered: RegisteredTypes = ((globalThis as Record<symbol, RegisteredTypes | undefined>)[
  REGISTERED
] ??= { server: new Map(), client: new Map() });

/** Built-in types first, then registered ones. */
class TypeTable<T> {
  constructor(
    private readonly builtIn: ReadonlyMap<string, T>,
    private readonly added: Map<string, T>,
  ) {}
  get(prefix: string): T | undefined {
    return this.builtIn.get(prefix) ?? this.added.get(prefix);
  }
  set(prefix: string, type: T): void {
    this.added.set(prefix, type);
  }
  keys(): string[] {
    return [...new Set([...this.builtIn.keys(), ...this.added.keys()])];
  }
}

const serverTypes = new TypeTable(builtInServerTypes, registered.server);
const clientTypes = new TypeTable(builtInClientTypes, registered.client);

function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !/^[a-z][a-z0-9+.-]*$/i.test(prefix)) {
    throw new TypeError(
      `An endpoint prefix must be a letter followed by letters, digits, '+', '.' or '-', got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix.toLowerCase();
}

function register<T>(kind: string, types: TypeTable<T>, prefix: string, type: T): void {
  const key = checkPrefix(prefix);
  const existing = types.get(key);
  if (existing !== undefined && existing !== type) {
    throw new Error(`The ${kind} endpoint prefix '${key}' is already registered`);
  }
  types.set(key, type);
}

/**
 * Adds a server endpoint type for strings starting with `prefix:`
 * (case-insensitive). Registering the same type again is harmless, so a
 * module may register when it is imported.
 * @throws Error if another type has the prefix; TypeError for a malformed prefix.
 */
export function registerServerEndpointType<D extends EndpointDescription>(
  prefix: string,
  type: ServerEndpointType<D>,
): void {
  register('server', serverTypes, prefix, type as AnyServerType);
}

/** Adds a client endpoint type, as {@link registerServerEndpointType}. */
export function registerClientEndpointType<D extends EndpointDescription>(
  prefix: string,
  type: ClientEndpointType<D>,
): void {
  register('client', clientTypes, prefix, type as AnyClientType);
}

/** The registered server prefixes, sorted. */
export function serverEndpointPrefixes(): string[] {
  return serverTypes.keys().sort();
}

/** The registered client prefixes, sorted. */
export function clientEndpointPrefixes(): string[] {
  return clientTypes.keys().sort();
}

function parseWith<T extends { parse: AnyServerType['parse'] }>(
  kind: string,
  types: TypeTable<T>,
  description: string,
  example: string,
): { type: T; parsed: EndpointDescription } {
  if (typeof description !== 'string') {
    throw new EndpointError(`an endpoint must be a string, got ${typeof description}`);
  }
  const [typeField, ...fields] = splitFields(description);
  // `tcp=80` or `=80`: a name where the type belongs.
  const prefix = typeField?.name === null ? typeField.value.toLowerCase() : '';
  if (prefix === '') {
    throw new EndpointError(
      `endpoint '${description}': missing the endpoint type (e.g. ${example})`,
    );
  }
  const type = types.get(prefix);
  if (type === undefined) {
    const known = types.keys().sort().join(', ');
    throw new EndpointError(
      `endpoint '${description}': unknown ${kind}endpoint type '${prefix}' (known: ${known}; a package that adds a type registers it when it is loaded)`,
    );
  }
  let parsed: EndpointDescription;
  try {
    parsed = type.parse(fields, description) as EndpointDescription;
  } catch (err) {
    if (err instanceof EndpointError) throw err;
    // A third-party parser that threw something else: still an endpoint problem.
    throw new EndpointError(
      `endpoint '${description}': ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return { type, parsed };
}

function typeOf<T>(kind: string, types: TypeTable<T>, description: EndpointDescription): T {
  const type = types.get(description.type);
  if (type === undefined) {
    throw new EndpointError(`no ${kind} endpoint type '${description.type}' is registered`);
  }
  return type;
}

/**
 * Parses a server endpoint string into a plain description, without I/O.
 * @throws EndpointError naming what is wrong (unknown type, with the known
 *   ones; bad port; unknown option…).
 */
export function parseServerDescription(description: string): EndpointDescription {
  return parseWith('', serverTypes, description, 'tcp:8007').parsed;
}

/** Parses a client endpoint string, as {@link parseServerDescription}. */
export function parseClientDescription(description: string): EndpointDescription {
  return parseWith(
    'client ',
    clientTypes,
    description,
    'tcp:localhost:8007 or tls:example.com:8443',
  ).parsed;
}

/** A server description as a string that parses back to it (defaults left out). */
export function formatServerDescription(description: EndpointDescription): string {
  return typeOf('server', serverTypes, description).format(description);
}

/** A client description as a string that parses back to it (defaults left out). */
export function formatClientDescription(description: EndpointDescription): string {
  return typeOf('client', clientTypes, description).format(description);
}

/** Whether a server description listens for streams (a protocol factory) or datagrams. */
export function serverDescriptionKind(description: EndpointDescription): 'stream' | 'datagram' {
  return typeOf('server', serverTypes, description).kind;
}

function contextOf(context: Partial<EndpointBuildContext>): EndpointBuildContext {
  return { cwd: context.cwd ?? process.cwd() };
}

/**
 * Builds the endpoint a server description names, on `reactor`. Reads an
 * `ssl:` description's files (relative to `context.cwd`).
 * @throws EndpointError if the reactor cannot serve the type (no `listenSSL`…);
 *   CertificateFilesError for unusable files.
 */
export function buildServerEndpoint(
  reactor: object,
  description: EndpointDescription,
  context: Partial<EndpointBuildContext> = {},
): IStreamServerEndpoint | IDatagramServerEndpoint {
  return typeOf('server', serverTypes, description).build(reactor, description, contextOf(context));
}

/** Builds the endpoint a client description names, as {@link buildServerEndpoint}. */
export function buildClientEndpoint(
  reactor: object,
  description: EndpointDescription,
  context: Partial<EndpointBuildContext> = {},
): IStreamClientEndpoint {
  return typeOf('client', clientTypes, description).build(reactor, description, contextOf(context));
}

/**
 * A stream server endpoint from a string (Twisted's `serverFromString`):
 * `tcp:8007`, `ssl:8443:privateKey=key.pem`, `unix:/run/app.sock`,
 * `systemd:domain=INET:index=0`, or a registered type.
 * @throws EndpointError for a bad string, or a datagram type (use
 *   {@link datagramServerFromString}); CertificateFilesError for unusable files.
 */
export function serverFromString(
  reactor: object,
  description: string,
  context: Partial<EndpointBuildContext> = {},
): IStreamServerEndpoint {
  const parsed = parseServerDescription(description);
  if (serverDescriptionKind(parsed) !== 'stream') {
    throw new EndpointError(
      `endpoint '${description}': a ${parsed.type} endpoint receives datagrams; use datagramServerFromString`,
    );
  }
  return buildServerEndpoint(reactor, parsed, context) as IStreamServerEndpoint;
}

/** A datagram server endpoint from a string: `udp:PORT[:interface=ADDR][:maxPacketSize=N]`. */
export function datagramServerFromString(
  reactor: object,
  description: string,
  context: Partial<EndpointBuildContext> = {},
): IDatagramServerEndpoint {
  const parsed = parseServerDescription(description);
  if (serverDescriptionKind(parsed) !== 'datagram') {
    throw new EndpointError(
      `endpoint '${description}': a ${parsed.type} endpoint is a stream endpoint; use serverFromString`,
    );
  }
  return buildServerEndpoint(reactor, parsed, context) as IDatagramServerEndpoint;
}

/**
 * A client endpoint from a string (Twisted's `clientFromString`):
 * `tcp:example.com:80`, `tls:example.com:443`, `unix:/run/app.sock`, or a
 * registered type.
 * @throws EndpointError for a bad string; CertificateFilesError for unusable files.
 */
export function clientFromString(
  reactor: object,
  description: string,
  context: Partial<EndpointBuildContext> = {},
): IStreamClientEndpoint {
  return buildClientEndpoint(reactor, parseClientDescription(description), context);
}
