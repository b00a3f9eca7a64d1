/**
 * The `haproxy:` server endpoint type: `haproxy:tcp:8007` (any stream
 * endpoint after the prefix) listens as the inner endpoint does and serves
 * the factory through {@link HAProxyWrappingFactory}. Registered with
 * @torsion/core's endpoint registry when this module is imported (importing
 * `@torsion/haproxy` does it).
 *
 *   haproxy:[trust=CIDR[,CIDR...]:][timeout=SECONDS:]<stream endpoint>
 *
 * Tests: test/endpoint.test.ts, test/haproxy-interop.integration.test.ts
 * @module
 */
import {
  buildServerEndpoint,
  EndpointError,
  escapeEndpointValue,
  formatServerDescription,
  parseServerDescription,
  registerServerEndpointType,
  serverDescriptionKind,
  serverEndpointPrefixes,
  type Deferred,
  type EndpointDescription,
  type IAddress,
  type IListeningPort,
  type IProtocolFactory,
  type IReactorTime,
  type IStreamServerEndpoint,
  type ServerEndpointType,
} from '@torsion/core';
import type { RefusalEvent, RefusalOptions } from '@torsion/policies';
import { parseCIDR } from './ip.js';
import { HAProxyWrappingFactory, type HAProxyWrappingOptions } from './wrapping-factory.js';

/** A parsed `haproxy:` endpoint string. */
export interface HAProxyEndpointDescription extends EndpointDescription {
  readonly type: 'haproxy';
  /** `trust=`: the trusted proxies; `null` for the default (loopback). */
  readonly trustedProxies: readonly string[] | null;
  /** `timeout=`: seconds to read the header; `null` for the default. */
  readonly headerTimeout: number | null;
  /** The endpoint after the options: where it listens. */
  readonly inner: EndpointDescription;
}

/**
 * A stream server endpoint that listens through `inner` and serves each
 * connection through an {@link HAProxyWrappingFactory}.
 *
 * Refusals (untrusted proxy, bad header, header timeout) go to
 * `options.onRefused`; without one, to the served factory's own `onRefused`
 * member when it has one — so a factory that counts its policies' refusals
 * (a `LimitTotalConnectionsFactory`, or a server's metrics wrapper) counts
 * the refusals of a `haproxy:` endpoint built from a string too.
 */
export class HAProxyServerEndpoint implements IStreamServerEndpoint {
  constructor(
    readonly inner: IStreamServerEndpoint,
    readonly options: HAProxyWrappingOptions = {},
  ) {
    // Checks the options now, rather than at the first listen().
    new HAProxyWrappingFactory({ buildProtocol: () => null, doStart() {}, doStop() {} }, options);
  }

  listen(factory: IProtocolFactory): Deferred<IListeningPort<IAddress>> {
    const own = (factory as Partial<RefusalOptions>).onRefused;
    const onRefused =
      this.options.onRefused ??
      (typeof own === 'function'
        ? (event: RefusalEvent) => {
            own.call(factory, event);
          }
        : undefined);
    return this.inner.listen(
      new HAProxyWrappingFactory(factory, {
        ...this.options,
        ...(onRefused === undefined ? {} : { onRefused }),
      }),
    );
  }
}

const USAGE = 'haproxy:[trust=CIDR[,CIDR...]:][timeout=SECONDS:]<stream endpoint, e.g. tcp:8007>';

/** The `haproxy:` type, as registered. */
export const HAPROXY_SERVER_TYPE: ServerEndpointType<HAProxyEndpointDescription> = {
  kind: 'stream',
  usage: USAGE,
  parse(fields, description) {
    let trustedProxies: string[] | null = null;
    let headerTimeout: number | null = null;
    let i = 0;
    for (; i < fields.length; i++) {
      const field = fields[i];
      if (field === undefined || field.name === null) break;
      if (field.name === 'trust' && trustedProxies === null) {
        trustedProxies = field.value === '' ? [] : field.value.split(',');
        for (const [n, text] of trustedProxies.entries()) {
          try {
            parseCIDR(text, `trust[${String(n)}]`);
          } catch (error) {
            throw new EndpointError(`endpoint '${description}': ${(error as Error).message}`);
          }
        }
      } else if (field.name === 'timeout' && headerTimeout === null) {
        headerTimeout = /^\d+(\.\d+)?$/.test(field.value) ? Number(field.value) : NaN;
        if (!(headerTimeout > 0)) {
          throw new EndpointError(
            `endpoint '${description}': timeout must be a positive number of seconds, got '${field.value}'`,
          );
        }
      } else {
        const repeated = field.name === 'trust' || field.name === 'timeout';
        throw new EndpointError(
          `endpoint '${description}': ${repeated ? 'repeated' : 'unknown'} option '${field.name}' (expected ${USAGE})`,
        );
      }
    }
    const rest = fields.slice(i);
    if (
      rest.length === 0 ||
      (rest.length === 1 && rest[0]?.value === '' && rest[0].name === null)
    ) {
      throw new EndpointError(
        `endpoint '${description}': no endpoint after haproxy: (expected ${USAGE})`,
      );
    }
    const innerText = rest
      .map((f) =>
        f.name === null
          ? escapeEndpointValue(f.value)
          : `${escapeEndpointValue(f.name)}=${escapeEndpointValue(f.value)}`,
      )
      .join(':');
    const inner = parseServerDescription(innerText);
    if (serverDescriptionKind(inner) !== 'stream') {
      throw new EndpointError(
        `endpoint '${description}': the PROXY protocol needs a stream endpoint, and ${inner.type} receives datagrams`,
      );
    }
    return { type: 'haproxy', trustedProxies, headerTimeout, inner };
  },
  format(d) {
    const options: string[] = [];
    if (d.trustedProxies !== null)
      options.push(`trust=${escapeEndpointValue(d.trustedProxies.join(','))}`);
    if (d.headerTimeout !== null) options.push(`timeout=${String(d.headerTimeout)}`);
    return ['haproxy', ...options, formatServerDescription(d.inner)].join(':');
  },
  build(reactor, d, context) {
    if (typeof (reactor as Partial<IReactorTime>).callLater !== 'function') {
      throw new EndpointError(
        `endpoint 'haproxy:': the reactor has no callLater to time PROXY headers`,
      );
    }
    const inner = buildServerEndpoint(reactor, d.inner, context) as IStreamServerEndpoint;
    return new HAProxyServerEndpoint(inner, {
      reactor: reactor as IReactorTime,
      ...(d.trustedProxies === null ? {} : { trustedProxies: d.trustedProxies }),
      ...(d.headerTimeout === null ? {} : { headerTimeout: d.headerTimeout }),
    });
  },
};

// Two copies of this module can meet in one process (the built package, which
// the torsion runner imports, and these sources under a test runner): the
// first registered serves `haproxy:` for both, rather than the second
// failing the whole import.
if (!serverEndpointPrefixes().includes('haproxy')) {
  registerServerEndpointType('haproxy', HAPROXY_SERVER_TYPE);
}
