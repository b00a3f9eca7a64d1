/**
 * What an endpoint type is to the string grammar: a pure parser from the
 * fields of a description to a plain object, its formatter back to a
 * string, and the step that builds the endpoint (which may read files).
 * The built-in types implement these, and a third-party package registers
 * its own with `registerServerEndpointType`/`registerClientEndpointType`.
 *
 * Tests: test/endpoints/endpoint-registry.test.ts
 * @module
 */
import type {
  IDatagramServerEndpoint,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
} from '../interfaces.js';
import type { Field } from './strports.js';

/** A parsed endpoint string: plain data, named by its type. */
export interface EndpointDescription {
  /** The type's name: the prefix of the string (`tcp`), after aliases (`tls` → `ssl` for servers). */
  readonly type: string;
}

/** What building an endpoint from a description may need. */
export interface EndpointBuildContext {
  /** Relative file names in the description are read from here. Default `process.cwd()`. */
  readonly cwd: string;
}

/** A server endpoint type of the string grammar. */
export interface ServerEndpointType<D extends EndpointDescription = EndpointDescription> {
  /** `stream` endpoints listen with a protocol factory; `datagram` ones with a datagram protocol. */
  readonly kind: 'stream' | 'datagram';
  /** One line of usage for error messages and help, e.g. `tcp:PORT[:interface=ADDR][:backlog=N]`. */
  readonly usage: string;
  /**
   * Reads the fields after the prefix. Pure: no I/O.
   * @param description - the whole string, for messages.
   * @throws EndpointError naming the field that is wrong.
   */
  parse(fields: readonly Field[], description: string): D;
  /** The description as a string that `parse` reads back as the same description. */
  format(description: D): string;
  /**
   * Builds the endpoint on `reactor` (files named by the description are read here).
   * @throws EndpointError if the reactor cannot serve this type; other errors for unusable files.
   */
  build(
    reactor: object,
    description: D,
    context: EndpointBuildContext,
  ): IStreamServerEndpoint | IDatagramServerEndpoint;
}

/** A client endpoint type of the string grammar. */
export interface ClientEndpointType<D extends EndpointDescription = EndpointDescription> {
  readonly usage: string;
  /** As {@link ServerEndpointType.parse}. */
  parse(fields: readonly Field[], description: string): D;
  format(description: D): string;
  build(reactor: object, description: D, context: EndpointBuildContext): IStreamClientEndpoint;
}

/** The reactor's class name for messages. */
export function reactorName(reactor: object): string {
  const name = (reactor as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : '(unnamed)';
}
