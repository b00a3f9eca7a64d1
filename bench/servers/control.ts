/**
 * The stdio protocol every benchmark server speaks, so the runner can drive a
 * Node, Torsion or (later) Bun server the same way.
 *
 * - stdout, first line: the TCP port the server listens on (127.0.0.1), or
 *   for a unix-echo server the UNIX socket path.
 * - stdin, one command per line; each answer is one JSON line on stdout:
 *   - `count`: `{"connections":N}`.
 *   - `stats`: forces garbage collection (twice, so objects freed by the
 *     first pass's finalizers go too) when the process runs with
 *     `--expose-gc`, then `{"connections":N,"rss":..,"heapUsed":..,"external":..,
 *     "arrayBuffers":..,"gc":true|false}` in bytes.
 *   - `quit`, or stdin closing: exit with status 0.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { createInterface } from 'node:readline';

/** Reports how many connections the server holds now. */
export type ConnectionCounter = () => number | Promise<number>;

/** What `stats` answers, in bytes. */
export interface ServerStats {
  connections: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Whether a GC was forced before measuring (false without `--expose-gc`). */
  gc: boolean;
}

function forceGc(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  gc();
  gc();
  return true;
}

function reply(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function answer(command: string, connections: ConnectionCounter): Promise<void> {
  switch (command) {
    case 'count':
      reply({ connections: await connections() });
      return;
    case 'stats': {
      const gc = forceGc();
      const mem = process.memoryUsage();
      const stats: ServerStats = {
        connections: await connections(),
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
        gc,
      };
      reply(stats);
      return;
    }
    case 'quit':
      process.exit(0);
      break;
    default:
      reply({ error: `unknown command ${JSON.stringify(command)}` });
  }
}

/**
 * Announces `port` on stdout and starts answering the runner's commands.
 * @param port - the bound TCP port, or the UNIX socket path (unix-echo servers).
 * @param connections - how many connections the server holds now.
 */
export function serveControl(port: number | string, connections: ConnectionCounter): void {
  process.stdout.write(`${String(port)}\n`);
  const lines = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    const command = line.trim();
    if (command === '') return;
    // Answers stay in command order even when counting is asynchronous.
    queue = queue.then(() => answer(command, connections));
  });
  lines.on('close', () => process.exit(0));
}
