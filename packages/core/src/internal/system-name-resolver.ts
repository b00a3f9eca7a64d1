/**
 * The system's name resolution for endpoints: `dns.lookup(name, { all: true })`,
 * which is getaddrinfo (the hosts file, then DNS), the same the reactors'
 * `connectTCP` uses, with the addresses in the order the system gives them.
 *
 * Tests: test/endpoints/name-resolver.test.ts
 * @module
 */
import { lookup } from 'node:dns';
import { Deferred } from '../deferred.js';
import { DNSLookupError } from '../errors.js';
import type { INameResolver, ResolvedAddress } from '../interfaces.js';

/** Resolves with the system resolver; a name with no address fails with DNSLookupError. */
export const systemNameResolver: INameResolver = {
  resolveHostName(name: string): Deferred<readonly ResolvedAddress[]> {
    const deferred = new Deferred<readonly ResolvedAddress[]>();
    // getaddrinfo cannot be interrupted: a cancelled lookup's late answer is dropped.
    lookup(name, { all: true, verbatim: true }, (err, addresses) => {
      if (deferred.called) return;
      if (err !== null || addresses.length === 0) {
        deferred.errback(
          new DNSLookupError(
            `DNS lookup failed for ${name}${err === null ? ': no addresses' : `: ${err.message}`}`,
            { cause: err ?? undefined },
          ),
        );
        return;
      }
      deferred.callback(
        addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })),
      );
    });
    return deferred;
  },
};
