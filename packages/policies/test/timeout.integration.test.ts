// TimeoutFactory over a real NodeReactor loopback connection, around a
// protocol that registers its own transport as its streaming producer (the
// echo idiom: its reads pause while its writes back up). An idle timeout
// must close such a connection cleanly at once — a FIN, not a reset after
// the abort grace — also with a ThrottlingFactory between the two, which
// stands in for the producer.
import { expect } from 'chai';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import {
  Factory,
  NodeReactor,
  Protocol,
  type IProtocolFactory,
  type IStreamTransport,
} from '@torsion/core';

import { ThrottlingFactory, TimeoutFactory } from '../src/index.js';

/** Echo's flow control: the transport is its own producer; every byte goes back. */
class SelfProducingEcho extends Protocol<never, IStreamTransport> {
  override connectionMade(): void {
    this.transport.registerProducer(this.transport, true);
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const IDLE = 0.2;

/** Serves `wrap(echo)`; a client echoes one message, then idles until the server closes. */
async function idleClose(
  wrap: (factory: IProtocolFactory, reactor: NodeReactor) => IProtocolFactory,
): Promise<{ elapsed: number; error: string | null; reply: string }> {
  const reactor = new NodeReactor({ installSignalHandlers: false });
  const port = reactor.listenTCP(0, wrap(Factory.forProtocol(SelfProducingEcho), reactor), {
    interface: '127.0.0.1',
  });
  await port.whenListening();
  const done = reactor.run();
  try {
    const socket: Socket = connect(port.getHost().port, '127.0.0.1');
    let error: string | null = null;
    let reply = '';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
    });
    await once(socket, 'connect');
    socket.write('ping');
    const started = performance.now();
    const closed = once(socket, 'close');
    const timer = setTimeout(() => socket.destroy(), 4000);
    await closed;
    clearTimeout(timer);
    return { elapsed: (performance.now() - started) / 1000, error, reply };
  } finally {
    await port.stopListening();
    reactor.stop();
    await done;
  }
}

describe('TimeoutFactory over loopback (NodeReactor)', function () {
  this.timeout(10_000);

  it('closes an idle self-producing echo at once with a FIN, not after the abort grace with a reset', async () => {
    const result = await idleClose(
      (factory, reactor) =>
        new TimeoutFactory(factory, { timeoutPeriod: IDLE, clock: reactor, abortGrace: 3 }),
    );
    expect(result.reply).to.equal('ping');
    expect(result.error).to.equal(null);
    expect(result.elapsed).to.be.within(IDLE * 0.8, 1.5);
  });

  it('does the same with a ThrottlingFactory between the timeout and the echo', async () => {
    const result = await idleClose(
      (factory, reactor) =>
        new TimeoutFactory(
          new ThrottlingFactory(factory, { writeLimitPerConnection: 1 << 20, clock: reactor }),
          { timeoutPeriod: IDLE, clock: reactor, abortGrace: 3 },
        ),
    );
    expect(result.reply).to.equal('ping');
    expect(result.error).to.equal(null);
    expect(result.elapsed).to.be.within(IDLE * 0.8, 1.5);
  });
});
