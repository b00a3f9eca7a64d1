// The every-reactor cases of reactor-cases.ts on the NodeReactor, over
// loopback sockets in real time.
import { NodeReactor, type IAddress, type IListeningPort } from '@torsion/core';
import { describeProxyPolicyCases } from './reactor-cases.js';

describeProxyPolicyCases('NodeReactor (loopback)', () => {
  const reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.2 });
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
