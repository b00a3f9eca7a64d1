// The reactor conformance suite from @torsion/reactor-conformance against BunReactor,
// over real loopback sockets, under Bun: the same checks NodeReactor passes.
import { describeReactorConformance } from '@torsion/reactor-conformance';
import { BunReactor } from '../src/index.js';

describeReactorConformance('BunReactor', {
  // No signal handlers in tests; a short grace period keeps shutdown tests quick.
  makeReactor: () => new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 }),
});
