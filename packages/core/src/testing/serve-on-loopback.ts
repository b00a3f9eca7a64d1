/**
 * `serveOnLoopback`: listen on a loopback port chosen by the system, with a
 * {@link RecordingFactory}, in one call.
 *
 * Tests: test/testing/recording-factory.test.ts
 * @module
 */
import type { IReactorTCP } from '../interfaces.js';
import type { Protocol } from '../protocol.js';
import { RecordingFactory } from './recording-factory.js';

/** What {@link serveOnLoopback} resolves with. */
export interface LoopbackServer<P extends Protocol> {
  /** The factory that builds (and keeps) the server's protocols. */
  factory: RecordingFactory<P>;
  /** The port the system chose. */
  port: number;
}

/**
 * Listens on `host`, port 0, with a new {@link RecordingFactory} around
 * `make`, and resolves once the port is bound.
 *
 * @remarks
 * It needs only `listenTCP`, so it works with any reactor (including
 * `SimulatedReactor`). The port stays open until the reactor stops or the
 * test closes it.
 *
 * @param reactor - the reactor to listen with.
 * @param make - builds one protocol per connection.
 * @param host - the interface to bind; loopback by default.
 * @throws Error (rejects) if the port cannot be bound.
 *
 * @example
 * ```ts
 * const { factory, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
 * reactor.connectTCP('127.0.0.1', port, clientFactory);
 * const server = await factory.nth(1);
 * ```
 */
export async function serveOnLoopback<P extends Protocol>(
  reactor: IReactorTCP,
  make: () => P,
  host = '127.0.0.1',
): Promise<LoopbackServer<P>> {
  const factory = new RecordingFactory(make);
  const listening = await reactor.listenTCP(0, factory, { interface: host }).whenListening();
  return { factory, port: listening.getHost().port };
}
