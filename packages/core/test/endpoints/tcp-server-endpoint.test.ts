// Tests for src/endpoints/tcp-server-endpoint.ts, ssl-server-endpoint.ts and udp-server-endpoint.ts on a MemoryReactor.
import { expect } from 'chai';
import { SSL4ServerEndpoint } from '../../src/endpoints/ssl-server-endpoint.js';
import { TCP4ServerEndpoint, TCP6ServerEndpoint } from '../../src/endpoints/tcp-server-endpoint.js';
import { UDPServerEndpoint } from '../../src/endpoints/udp-server-endpoint.js';
import { Factory } from '../../src/factory.js';
import type { IDatagramProtocol, IReactorUDP, IUDPPort } from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import { MemoryReactor } from '../../src/testing/memory-reactor.js';
import { makeTestCertificates } from '../../src/testing/test-certificates.js';
import { serverTLSOptions } from '../../src/tls-options.js';

describe('TCP server endpoints', () => {
  it('listen with listenTCP and fire with the bound port', async () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const port = await new TCP4ServerEndpoint(reactor, 8007, { backlog: 3 }).listen(factory);
    expect(reactor.tcpServers[0]).to.include({ port: 8007, interface: '', backlog: 3, factory });
    expect(port).to.equal(reactor.tcpServers[0]?.listeningPort);
    await new TCP6ServerEndpoint(reactor, 0).listen(factory);
    expect(reactor.tcpServers[1]).to.include({ interface: '::' });
  });

  it('turn arguments the reactor throws for into a failed Deferred', async () => {
    const failure = await new TCP4ServerEndpoint(new MemoryReactor(), 70000)
      .listen(Factory.forProtocol(Protocol))
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).to.be.instanceOf(RangeError);
  });

  it('SSL4ServerEndpoint listens with listenSSL and its TLS options', async () => {
    const reactor = new MemoryReactor();
    const certs = makeTestCertificates();
    const tls = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
    const port = await new SSL4ServerEndpoint(reactor, 8443, tls, {
      interface: '127.0.0.1',
    }).listen(Factory.forProtocol(Protocol));
    expect(reactor.sslServers[0]).to.include({ port: 8443, options: tls, interface: '127.0.0.1' });
    expect(port).to.equal(reactor.sslServers[0]?.listeningPort);
  });
});

describe('UDPServerEndpoint', () => {
  it('binds the protocol with listenUDP and its options', () => {
    const calls: unknown[][] = [];
    const port = { whenListening: () => Promise.resolve() } as unknown as IUDPPort;
    const reactor: IReactorUDP = {
      listenUDP: (...args) => {
        calls.push(args);
        return { ...port, whenListening: () => ({ then: undefined }) } as unknown as IUDPPort;
      },
    };
    const protocol = {} as IDatagramProtocol;
    const endpoint = new UDPServerEndpoint(reactor, 7, {
      interface: '127.0.0.1',
      maxPacketSize: 512,
    });
    void endpoint.listen(protocol);
    expect(calls).to.deep.equal([[7, protocol, { interface: '127.0.0.1', maxPacketSize: 512 }]]);
  });
});
