// The reactor conformance suite against core's SimulatedReactor: virtual
// time that jumps ahead when idle, an in-memory network with latency, jitter
// and re-cut segments. The whole suite runs in a fraction of a second.
import { SimulatedReactor } from '@torsion/core/testing';
import type { IReactor } from '@torsion/core';
import { describeReactorConformance } from '@torsion/reactor-conformance';
import type { UNIXFileHooks } from '@torsion/reactor-conformance';

let nextDirectory = 0;

/** The simulated reactor's own host's UNIX files. */
function filesOf(reactor: IReactor) {
  if (!(reactor instanceof SimulatedReactor)) throw new TypeError('not a SimulatedReactor');
  return reactor.localhost.unixFiles;
}

/** The UNIX section's files on the simulated reactor: its own host's `unixFiles`. */
const SIMULATED_UNIX_FILES: UNIXFileHooks = {
  socketPath: (_reactor: IReactor, name: string) =>
    `/tmp/conformance-${String(++nextDirectory)}/${name}`,
  makeStaleSocket: (reactor: IReactor, path: string) => {
    filesOf(reactor).makeStaleSocket(path);
  },
  statFile: (reactor: IReactor, path: string) => filesOf(reactor).stat(path),
};

describeReactorConformance('SimulatedReactor', {
  makeReactor: () =>
    new SimulatedReactor({
      shutdownGracePeriod: 0.2,
      link: { latency: 0.005, jitter: 0.002, chunking: 4096 },
    }),
  // UNIX paths live in the simulated host's own files, not on disk.
  unixFiles: SIMULATED_UNIX_FILES,
  // The simulated network is IPv4 only: a UDP port on ::1 fails to bind (EAFNOSUPPORT).
  skip: ['udpIPv6'],
});
