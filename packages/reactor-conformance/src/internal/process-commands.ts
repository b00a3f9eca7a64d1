/**
 * The process section's default children: real commands, found on `PATH`
 * (`cat`, `sh`, `sleep`), as every POSIX system has them.
 * @module
 */
import type { ProcessBehaviour, ProcessCommands } from '../options.js';

const COMMANDS: Readonly<
  Record<ProcessBehaviour, { readonly executable: string; readonly args: readonly string[] }>
> = {
  echo: { executable: 'cat', args: [] },
  exit3: { executable: 'sh', args: ['-c', 'exit 3'] },
  sleep: { executable: 'sleep', args: ['30'] },
  stdoutAndStderr: { executable: 'sh', args: ['-c', 'printf out; printf err >&2'] },
  writeFD3: { executable: 'sh', args: ['-c', 'printf three >&3'] },
  closeStdoutAndRunOn: {
    executable: 'sh',
    args: ['-c', 'printf bye; exec 1>&-; sleep 0.2; printf done >&2'],
  },
  writeThenSleep: { executable: 'sh', args: ['-c', 'printf x; exec sleep 30'] },
  missing: { executable: '/nonexistent/torsion-conformance-no-such-program', args: [] },
};

/** Real commands for every behaviour. */
export const REAL_PROCESS_COMMANDS: ProcessCommands = {
  command: (_reactor, behaviour) => COMMANDS[behaviour],
};
