/**
 * Name resolution for endpoints, pluggable so tests decide what a name
 * resolves to: {@link StaticNameResolver} (a host table), and
 * {@link nameResolverFor}, which picks the resolver of a reactor (its
 * `nameResolver`, as the SimulatedReactor's host table, else the system's).
 *
 * Tests: test/endpoints/name-resolver.test.ts
 * @module
 */
import { isIP } from 'node:net';
import { Deferred, fail, succeed } from '../deferred.js';
import { DNSLookupError } from '../errors.js';
import type {
  INameResolver,
  IReactorPluggableNameResolver,
  ResolvedAddress,
} from '../interfaces.js';
import { systemNameResolver } from '../internal/system-name-resolver.js';

/** The resolver of the operating system (`dns.lookup` with `all: true`). */
export function getSystemNameResolver(): INameResolver {
  return systemNameResolver;
}

/** The address itself, when `name` is an IP literal; `null` otherwise. */
export function literalAddress(name: string): ResolvedAddress | null {
  const family = isIP(name);
  return family === 0 ? null : { address: name, family: family === 6 ? 6 : 4 };
}

/**
 * A fixed host table: `new StaticNameResolver({ 'example.test': ['::1', '127.0.0.1'] })`.
 * Names are case-insensitive; an IP literal resolves to itself; any other
 * name fails with DNSLookupError. Answers synchronously, so tests on a
 * virtual clock stay deterministic.
 */
export class StaticNameResolver implements INameResolver {
  readonly #table = new Map<string, ResolvedAddress[]>();

  /** @throws TypeError if a listed address is not an IP address. */
  constructor(table: Readonly<Record<string, readonly string[]>> = {}) {
    for (const [name, addresses] of Object.entries(table)) this.add(name, ...addresses);
  }

  /** Adds addresses for `name`, after any it has. */
  add(name: string, ...addresses: string[]): void {
    const key = name.toLowerCase();
    const list = this.#table.get(key) ?? [];
    for (const address of addresses) {
      const resolved = literalAddress(address);
      if (resolved === null) throw new TypeError(`Not an IP address: ${JSON.stringify(address)}`);
      list.push(resolved);
    }
    this.#table.set(key, list);
  }

  resolveHostName(name: string): Deferred<readonly ResolvedAddress[]> {
    const literal = literalAddress(name);
    if (literal !== null) return succeed([literal]);
    const list = this.#table.get(name.toLowerCase());
    if (list === undefined || list.length === 0) {
      return fail(new DNSLookupError(`DNS lookup failed for ${name}: not in the host table`));
    }
    return succeed([...list]);
  }
}

function hasResolver(reactor: object): reactor is IReactorPluggableNameResolver {
  const resolver = (reactor as Partial<IReactorPluggableNameResolver>).nameResolver;
  return typeof resolver?.resolveHostName === 'function';
}

/**
 * The resolver endpoints use on `reactor`: its own `nameResolver`
 * (IReactorPluggableNameResolver; the SimulatedReactor resolves through its
 * network's hosts), else the system's.
 */
export function nameResolverFor(reactor: object): INameResolver {
  return hasResolver(reactor) ? reactor.nameResolver : systemNameResolver;
}
