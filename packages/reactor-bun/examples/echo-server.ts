/**
 * An echo server (RFC 862) on BunReactor: the same `@torsion/echo` protocol
 * that runs on NodeReactor, served by Bun's native sockets. Run it with
 *
 *   bun packages/reactor-bun/examples/echo-server.ts [port]
 *
 * It prints `listening on 127.0.0.1:<port>` and serves until SIGINT or
 * SIGTERM. docs/reactor-bun.md shows this file; test/examples.bun.test.ts runs it.
 */
import type { IListeningPort } from '@torsion/core';
import { EchoFactory } from '@torsion/echo';
import { BunReactor } from '@torsion/reactor-bun';

/** Serves Echo on 127.0.0.1:`port` (0: any free port); resolves once bound. */
export async function serveEcho(reactor: BunReactor, port = 0): Promise<IListeningPort> {
  return reactor.listenTCP(port, new EchoFactory(), { interface: '127.0.0.1' }).whenListening();
}

if (import.meta.main) {
  const reactor = new BunReactor(); // stops on SIGINT/SIGTERM
  const listening = await serveEcho(reactor, Number(process.argv[2] ?? 0));
  console.log(`listening on ${listening.getHost().toString()}`);
  await reactor.run();
}
