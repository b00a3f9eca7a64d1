// The reactor conformance suite against core's SimulatedReactor: virtual
// time that jumps ahead when idle, an in-memory network with latency, jitter
// and re-cut segments. The whole suite runs in a fraction of a second.
import { SimulatedReactor, type ProcessScript } from '@torsion/core/testing';
import type { IReactor } from '@torsion/core';
import { describeReactorConformance } from '@torsion/reactor-conformance';
import type {
  ProcessBehaviour,
  ProcessCommands,
  UNIXFileHooks,
} from '@torsion/reactor-conformance';

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

/** The scripted child each behaviour of the process section is, on the simulated reactor. */
const SIMULATED_PROCESS_SCRIPTS: Record<ProcessBehaviour, ProcessScript | null> = {
  echo: { echo: true },
  exit3: { exit: { at: 0, exitCode: 3 } },
  sleep: {},
  stdoutAndStderr: {
    output: [
      { at: 0, data: 'out' },
      { at: 0, fd: 2, data: 'err' },
    ],
    exit: { at: 0 },
  },
  writeFD3: { output: [{ at: 0, fd: 3, data: 'three' }], exit: { at: 0 } },
  closeStdoutAndRunOn: {
    run: (child) => {
      child.after(0, () => {
        child.write('bye');
        child.closeFD(1);
      });
      child.after(0.2, () => {
        child.write('done', 2);
        child.exit(0);
      });
    },
  },
  writeThenSleep: { output: [{ at: 0, data: 'x' }] },
  // Never defined: an executable with no script fails to start with ENOENT.
  missing: null,
};

/** The process section's children on the simulated reactor: scripts named after the behaviour. */
const SIMULATED_PROCESS_COMMANDS: ProcessCommands = {
  command: (reactor: IReactor, behaviour: ProcessBehaviour) => {
    if (!(reactor instanceof SimulatedReactor)) throw new TypeError('not a SimulatedReactor');
    const script = SIMULATED_PROCESS_SCRIPTS[behaviour];
    const executable = `simulated-${behaviour}`;
    if (script !== null) reactor.processes.define(executable, script);
    return { executable, args: [] };
  },
};

describeReactorConformance('SimulatedReactor', {
  makeReactor: () =>
    new SimulatedReactor({
      shutdownGracePeriod: 0.2,
      link: { latency: 0.005, jitter: 0.002, chunking: 4096 },
    }),
  // UNIX paths live in the simulated host's own files, not on disk.
  unixFiles: SIMULATED_UNIX_FILES,
  // Children are scripted in virtual time, not real processes.
  processCommands: SIMULATED_PROCESS_COMMANDS,
  // The simulated network is IPv4 only: a UDP port on ::1 fails to bind (EAFNOSUPPORT).
  skip: ['udpIPv6'],
});
