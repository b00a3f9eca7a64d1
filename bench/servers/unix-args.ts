/**
 * The one argument every unix-echo server takes: the UNIX socket path to
 * listen on (the runner makes a fresh directory for it).
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */

/** The socket path from the command line. @throws Error when it is missing. */
export function socketPathArgument(): string {
  const path = process.argv[2];
  if (path === undefined || path === '') {
    throw new Error('usage: <server> SOCKET_PATH (a UNIX socket path to listen on)');
  }
  return path;
}
