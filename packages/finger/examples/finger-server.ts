/**
 * Example: a finger server answering from examples/users.json (re-read when
 * it changes), listing users on the empty query, on 127.0.0.1:7979.
 *
 *   npx tsx packages/finger/examples/finger-server.ts
 *   torsion-finger alice@127.0.0.1:7979
 *
 * Tested by test/finger.integration.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { type IListeningPort, type IReactor, getReactor } from '@torsion/core';
import { FingerFactory, JsonFileUserDatabase } from '@torsion/finger';

/** The sample users file next to this example. */
export const USERS_FILE = fileURLToPath(new URL('users.json', import.meta.url));

/** Listens on 127.0.0.1:`port` (0 = any free port) with the sample users. */
export function startFingerServer(reactor: IReactor, port = 7979): IListeningPort {
  const factory = new FingerFactory({
    users: new JsonFileUserDatabase(USERS_FILE),
    allowList: true,
    idleTimeout: 30,
    reactor,
  });
  return reactor.listenTCP(port, factory, { interface: '127.0.0.1' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const reactor = getReactor();
  startFingerServer(reactor);
  await reactor.run();
}
