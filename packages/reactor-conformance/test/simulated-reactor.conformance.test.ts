// The reactor conformance suite against core's SimulatedReactor: virtual
// time that jumps ahead when idle, an in-memory network with latency, jitter
// and re-cut segments. The whole suite runs in a fraction of a second.
import { SimulatedReactor } from '@torsion/core/testing';
import { describeReactorConformance } from '@torsion/reactor-conformance';

describeReactorConformance('SimulatedReactor', {
  makeReactor: () =>
    new SimulatedReactor({
      shutdownGracePeriod: 0.2,
      link: { latency: 0.005, jitter: 0.002, chunking: 4096 },
    }),
  // The simulated network is IPv4 only: a UDP port on ::1 fails to bind (EAFNOSUPPORT).
  skip: ['udpIPv6'],
});
