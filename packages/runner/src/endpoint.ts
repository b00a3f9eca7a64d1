/**
 * Server endpoint strings in Twisted's strports syntax, parsed without I/O:
 * `tcp:8007`, `tcp:8007:interface=127.0.0.1:backlog=10`, `tcp:port=0`.
 * A backslash escapes the next character, so `interface=\:\:1` is `::1`
 * (quoted on a shell command line, which would otherwise eat the backslashes).
 *
 * Tests: test/endpoint.test.ts
 * @module
 */
import { TorsionError } from '@torsion/core';

/** A parsed TCP server endpoint. */
export interface TCPServerEndpoint {
  readonly type: 'tcp';
  readonly port: number;
  /** Address to bind; `''` means every interface. */
  readonly interface: string;
  readonly backlog: number;
}

/** A server endpoint Torsion can listen on. */
export type ServerEndpoint = TCPServerEndpoint;

/** An endpoint string that cannot be used; the message names what is wrong. */
export class EndpointError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_ENDPOINT';
}

/** Twisted's TCP defaults (endpoints.py): all interfaces, backlog 50. */
const DEFAULT_BACKLOG = 50;

/** Splits on unescaped colons and removes the escapes. */
function splitFields(description: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < description.length; i++) {
    const char = description.charAt(i);
    if (char === '\\') {
      const next = description.charAt(i + 1);
      if (next === '')
        throw new EndpointError(`endpoint '${description}' ends with a lone backslash`);
      current += next;
      i++;
    } else if (char === ':') {
      fields.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  fields.push(current);
  return fields;
}

function parseInteger(
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

function parseTCP(description: string, args: string[]): TCPServerEndpoint {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq === -1) {
      positional.push(arg);
      continue;
    }
    const key = arg.slice(0, eq);
    if (!['port', 'interface', 'backlog'].includes(key)) {
      throw new EndpointError(
        `endpoint '${description}': unknown tcp option '${key}' (known: port, interface, backlog)`,
      );
    }
    if (named.has(key)) throw new EndpointError(`endpoint '${description}': '${key}' given twice`);
    named.set(key, arg.slice(eq + 1));
  }
  if (positional.length > 1) {
    // `interface=\:\:1` typed unquoted reaches us as `interface=::1`: the
    // shell ate the backslashes, and the address fell apart into fields.
    const hint = named.has('interface')
      ? "; an IPv6 address needs its colons escaped, and the endpoint quoted so the shell keeps the backslashes: 'tcp:8007:interface=\\:\\:1'"
      : '';
    throw new EndpointError(
      `endpoint '${description}': too many positional fields (expected tcp:PORT[:interface=ADDR][:backlog=N])${hint}`,
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
    throw new EndpointError(`endpoint '${description}': a tcp endpoint needs a port (tcp:PORT)`);
  }
  const backlogText = named.get('backlog');
  return {
    type: 'tcp',
    port: parseInteger(description, 'port', portText, 0, 65535),
    interface: named.get('interface') ?? '',
    backlog:
      backlogText === undefined
        ? DEFAULT_BACKLOG
        : parseInteger(description, 'backlog', backlogText, 1, 65535),
  };
}

/**
 * Parses a server endpoint string.
 * @throws EndpointError naming what is wrong (unknown type, bad port, unknown option…).
 */
export function parseServerEndpoint(description: string): ServerEndpoint {
  const [type = '', ...args] = splitFields(description);
  switch (type.toLowerCase()) {
    case 'tcp':
      return parseTCP(description, args);
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
        `endpoint '${description}': unknown endpoint type '${type}' (supported: tcp)`,
      );
  }
}

/** The endpoint as a strports string (for logs). */
export function formatServerEndpoint(endpoint: ServerEndpoint): string {
  const iface =
    endpoint.interface === '' ? '' : `:interface=${endpoint.interface.replaceAll(':', '\\:')}`;
  return `tcp:${String(endpoint.port)}${iface}`;
}
