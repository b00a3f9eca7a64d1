/**
 * `describeReactorConformance`: registers the whole conformance suite as
 * mocha tests against one reactor implementation.
 *
 * Tests: test/node-reactor.conformance.integration.test.ts and
 * test/simulated-reactor.conformance.test.ts run it; test/options.test.ts
 * checks its options.
 * @module
 */
import { describe } from 'mocha';
import { checkKnownFailures, resolveSettings } from './internal/settings.js';
import type { ConformanceOptions } from './options.js';
import { connectingTests } from './suites/connecting.js';
import { endpointTests } from './suites/endpoints.js';
import { closingTests } from './suites/closing.js';
import { faultIsolationTests } from './suites/fault-isolation.js';
import { halfCloseTests } from './suites/half-close.js';
import { lifecycleTests } from './suites/lifecycle.js';
import { listeningTests } from './suites/listening.js';
import { processTests } from './suites/process.js';
import { producerTests } from './suites/producers.js';
import { resourceExhaustionTests } from './suites/resource-exhaustion.js';
import { shutdownTests } from './suites/shutdown.js';
import { timeTests } from './suites/time.js';
import { tlsTests } from './suites/tls.js';
import { transportTests } from './suites/transport.js';
import { udpTests } from './suites/udp.js';
import { unixTests } from './suites/unix.js';

/**
 * Registers the reactor conformance suite: mocha `describe`/`it` blocks that
 * check, through the public `IReactor` API only, everything Torsion's reactor
 * interfaces promise (lifecycle, time, TCP listen/connect, transports,
 * closing, producers and backpressure, half-close, fault isolation, TLS,
 * UNIX sockets, shutdown, and running out of file descriptors). The TLS section runs only
 * for a reactor with `listenSSL`, and is pending for any other; the UNIX
 * section likewise for `listenUNIX`. Both ends of every connection are on
 * the reactor under test, on 127.0.0.1 with port 0, and every wait is on
 * something the reactor fires, so a reactor with virtual time and an
 * in-memory network runs it too.
 *
 * Call it at the top level of a mocha test file (mocha must be the runner).
 *
 * @example
 * ```ts
 * import { NodeReactor } from '@torsion/core';
 * import { describeReactorConformance } from '@torsion/reactor-conformance';
 *
 * describeReactorConformance('NodeReactor', {
 *   makeReactor: () => new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.5 }),
 * });
 * ```
 *
 * @param name - names the top-level `describe` block, e.g. the reactor's class.
 * @param options - how to make and clean up the reactor; see {@link ConformanceOptions}.
 * @throws TypeError or RangeError for bad options, when called.
 */
export function describeReactorConformance(name: string, options: ConformanceOptions): void {
  const settings = resolveSettings(options);
  describe(`${name} reactor conformance`, () => {
    lifecycleTests(settings);
    timeTests(settings);
    listeningTests(settings);
    connectingTests(settings);
    transportTests(settings);
    closingTests(settings);
    producerTests(settings);
    halfCloseTests(settings);
    faultIsolationTests(settings);
    tlsTests(settings);
    udpTests(settings);
    unixTests(settings);
    processTests(settings);
    endpointTests(settings);
    shutdownTests(settings);
    resourceExhaustionTests(settings);
    checkKnownFailures(settings);
  });
}
