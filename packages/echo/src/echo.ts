/**
 * `Echo` and `EchoFactory`: the Echo protocol of RFC 862 (Twisted's
 * `twisted.protocols.wire.Echo`), with explicit backpressure so a peer that
 * sends but never reads cannot make the server buffer without bound.
 *
 * Tests: test/echo.test.ts, test/echo-backpressure.integration.test.ts
 * @module
 */
import { Protocol, ServerFactory } from '@torsion/core';
import type {
  IConsumer,
  IHalfCloseableProtocol,
  IPushProducer,
  ISharedReadBufferFactory,
  ITransport,
} from '@torsion/core';

type FlowControlled = ITransport & IConsumer & IPushProducer;

/** True when the transport can be paused and can pause a producer (a TCP transport can). */
function isFlowControlled(transport: ITransport): transport is FlowControlled {
  const t = transport as Partial<FlowControlled>;
  return (
    typeof t.registerProducer === 'function' &&
    typeof t.unregisterProducer === 'function' &&
    typeof t.pauseProducing === 'function' &&
    typeof t.resumeProducing === 'function'
  );
}

/**
 * Sends every byte it receives back to the peer (RFC 862).
 *
 * @remarks
 * Flow control: `connectionMade` registers the transport as its own
 * streaming producer, the idiomatic Twisted way, so the transport stops
 * *reading* from the peer while its *output* is above the write high-water
 * mark and resumes once the output has drained. Memory per connection stays
 * near the high-water mark plus one read chunk, however much the peer sends
 * without reading. (Torsion's TCP transport does the same by default when no
 * producer is registered; registering makes the behaviour explicit and
 * independent of the transport's default.)
 *
 * Closing: when the peer half-closes (sends FIN), everything already received
 * is echoed, then the connection closes. Echo is an
 * `IHalfCloseableProtocol` because a registered producer holds back a
 * close: it unregisters first.
 */
export class Echo extends Protocol implements IHalfCloseableProtocol {
  #producing = false;

  /** Registers the transport as its own streaming producer, when it supports it. */
  override connectionMade(): void {
    const transport = this.transport;
    if (isFlowControlled(transport)) {
      transport.registerProducer(transport, true);
      this.#producing = true;
    }
  }

  /** Writes `data` straight back. */
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }

  /** The peer sent FIN: finish sending what it sent us, then close. */
  readConnectionLost(): void {
    this.#unregister();
    this.transport.loseConnection();
  }

  /** Nothing to do: Echo never half-closes by itself. */
  writeConnectionLost(): void {}

  #unregister(): void {
    if (!this.#producing) return;
    this.#producing = false;
    (this.transport as FlowControlled).unregisterProducer();
  }
}

/**
 * Serves {@link Echo}: `reactor.listenTCP(7, new EchoFactory())`.
 * Same as `Factory.forProtocol(Echo)`, with a name.
 */
export class EchoFactory extends ServerFactory implements ISharedReadBufferFactory {
  /**
   * Echo only writes `data` back before `dataReceived` returns (the
   * transport copies what it cannot send at once), so the Node reactor may
   * read into its shared buffer.
   */
  readonly readsIntoSharedBuffer = true;

  constructor() {
    super();
    this.protocol = Echo;
  }
}
