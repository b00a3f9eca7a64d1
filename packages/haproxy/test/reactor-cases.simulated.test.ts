// The every-reactor cases of reactor-cases.ts on a SimulatedReactor: the
// PROXY wrapper and each policy over the simulated network (latency and
// one-byte chunking, so a header arrives split), in virtual time.
import type { IListeningPort, IAddress } from '@torsion/core';
import { SimulatedReactor } from '@torsion/core/testing';
import { describeProxyPolicyCases } from './reactor-cases.js';

describeProxyPolicyCases('SimulatedReactor', () => {
  const reactor = new SimulatedReactor({ link: { latency: 0.005, chunking: 1 } });
  const server = reactor.host('server');
  const client = reactor.host('client');
  const ports: IListeningPort<IAddress>[] = [];
  return {
    reactor,
    async listen(factory) {
      const port = server.listenTCP(7, factory);
      ports.push(port);
      await port.whenListening();
      return { host: 'server', port: 7 };
    },
    connect(host, port, factory) {
      client.connectTCP(host, port, factory);
    },
    async close() {
      for (const port of ports) await port.stopListening();
    },
  };
});
