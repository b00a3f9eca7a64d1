/**
 * Keeps a command running, restarting it with back-off when it ends
 * (see supervisor.ts). SIGTERM or Ctrl-C stops the child, then the supervisor.
 * Run: `node examples/dist/supervisor/main.js -- sh -c 'echo working; sleep 2; exit 1'`
 * (`BACKOFF_INITIAL=0.1` shortens the first delay.)
 *
 * Tests: examples/test/supervisor.test.ts
 */
import { Logger, NodeReactor } from '@torsion/core';
import { Supervisor } from './supervisor.js';

const log = new Logger('supervisor');
const separator = process.argv.indexOf('--');
const [executable, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
if (executable === undefined) {
  log.error('usage: main.js -- <command> [args...]');
  process.exit(2);
}
const reactor = new NodeReactor();
const supervisor = new Supervisor(reactor, executable, args, {
  initialDelay: Number(process.env.BACKOFF_INITIAL ?? 1),
});
// Shutdown waits for the child to end: the Deferred stop() returns.
reactor.addSystemEventTrigger('before', 'shutdown', () => supervisor.stop());
reactor.callWhenRunning(() => {
  supervisor.start();
});
await reactor.run();
log.info('supervisor stopped');
