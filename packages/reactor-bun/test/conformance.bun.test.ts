// The reactor conformance suite from @torsion/reactor-conformance against BunReactor,
// over real loopback sockets, under Bun: the same checks NodeReactor passes.
import { describeReactorConformance } from '@torsion/reactor-conformance';
import { BunReactor } from '../src/index.js';

describeReactorConformance('BunReactor', {
  // No signal handlers in tests; a short grace period keeps shutdown tests quick.
  makeReactor: () => new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 }),
  knownFailures: {
    // Capability "tlsSNI" (docs/reactor-bun.md): Bun.listen takes one
    // certificate per listener and has no SNI callback, so listenSSL refuses
    // SNI certificates with an error naming the capability.
    'SNI chooses the certificate: a client asking for sni.example gets that one, a client asking for localhost the main one':
      'BunReactor lacks capability tlsSNI: Bun.listen cannot choose a certificate by SNI',
  },
});
