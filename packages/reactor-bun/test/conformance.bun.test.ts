// The reactor conformance suite from @torsion/reactor-conformance against BunReactor,
// over real loopback sockets, under Bun: the same checks NodeReactor passes.
import { describeReactorConformance } from '@torsion/reactor-conformance';
import { BunReactor } from '../src/index.js';

describeReactorConformance('BunReactor', {
  // No signal handlers in tests; a short grace period keeps shutdown tests quick.
  makeReactor: () => new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 }),
  // Capability "tlsSNI" (docs/reactor-bun.md): Bun.listen takes one certificate per listener
  // and has no SNI callback, so listenSSL refuses SNI certificates with an error naming the
  // capability (tested in tls.bun.test.ts); the SNI test is pending, not failed.
  // Capability "udpListenMultiple": Bun.udpSocket has no SO_REUSEADDR option, so listenUDP
  // refuses listenMultiple with an error naming the capability (tested in udp.bun.test.ts).
  skip: ['tlsSNI', 'udpListenMultiple'],
});
