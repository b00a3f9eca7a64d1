// The reactor conformance suite against core's NodeReactor, over real
// loopback sockets. This file is also the example docs/conformance.md shows:
// a third-party reactor is checked the same way.
import { NodeReactor } from '@torsion/core';
import { describeReactorConformance } from '@torsion/reactor-conformance';

describeReactorConformance('NodeReactor', {
  // No signal handlers in tests; a short grace period keeps shutdown tests quick.
  makeReactor: () => new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 }),
});
