// The reactor conformance suite against core's SimulatedReactor: virtual
// time that jumps ahead when idle, an in-memory network with latency, jitter
// and re-cut segments. The whole suite runs in a fraction of a second.
import { SimulatedReactor } from '@torsion/core/testing';
import { describeReactorConformance } from '@torsion/testing';

const READ_AFTER_WRITE_CLOSED =
  'after loseWriteConnection(), the peer FIN goes straight to connectionLost without readConnectionLost';

describeReactorConformance('SimulatedReactor', {
  makeReactor: () =>
    new SimulatedReactor({
      shutdownGracePeriod: 0.2,
      link: { latency: 0.005, jitter: 0.002, chunking: 4096 },
    }),
  knownFailures: {
    "calls readConnectionLost on the peer's loseWriteConnection(), and the protocol can still write back":
      READ_AFTER_WRITE_CLOSED,
    'loseWriteConnection sends FIN after queued data, keeps reading, and calls writeConnectionLost':
      READ_AFTER_WRITE_CLOSED,
  },
});
