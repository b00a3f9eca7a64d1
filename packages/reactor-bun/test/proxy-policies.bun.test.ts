// The PROXY-protocol wrapper and the connection policies (limits, rate,
// idle timeout) over BunReactor on loopback, under Bun: the same cases
// NodeReactor and SimulatedReactor run (packages/haproxy/test/reactor-cases.ts).
// The cases are loaded by URL: they live with @torsion/haproxy's tests, outside
// this package's TypeScript project, so their types are restated here.
import type {
  IAddress,
  IClientFactory,
  IListeningPort,
  IProtocolFactory,
  IReactorTime,
} from '@torsion/core';
import { BunReactor } from '../src/index.js';

interface PolicyHarness {
  readonly reactor: IReactorTime;
  listen(factory: IProtocolFactory): Promise<{ host: string; port: number }>;
  connect(host: string, port: number, factory: IClientFactory): void;
  close(): Promise<void>;
}

const cases = (await import(
  new URL('../../haproxy/test/reactor-cases.ts', import.meta.url).href
)) as {
  describeProxyPolicyCases: (name: string, makeHarness: () => PolicyHarness) => void;
};

cases.describeProxyPolicyCases('BunReactor (loopback)', () => {
  const reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 });
  const running = reactor.run();
  const ports: IListeningPort<IAddress>[] = [];
  return {
    reactor,
    async listen(factory) {
      const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
      ports.push(port);
      await port.whenListening();
      return { host: '127.0.0.1', port: (port.getHost() as IAddress & { port: number }).port };
    },
    connect(host, port, factory) {
      reactor.connectTCP(host, port, factory);
    },
    async close() {
      for (const port of ports) await port.stopListening();
      reactor.stop();
      await running;
    },
  };
});
