// Tests for src/endpoints/systemd-endpoint.ts: reading LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES as
// sd_listen_fds_with_names(3) does, and picking a socket by index or by name.
import { expect } from 'chai';
import { EndpointError } from '../../src/endpoints/endpoint-error.js';
import {
  AdoptedStreamServerEndpoint,
  LISTEN_FDS_START,
  readListenFds,
  readListenSockets,
  systemdEndpoint,
  systemdEndpointNamed,
} from '../../src/endpoints/systemd-endpoint.js';
import { Factory } from '../../src/factory.js';
import { Protocol } from '../../src/protocol.js';
import { MemoryReactor } from '../../src/testing/memory-reactor.js';
import { SimulatedReactor } from '../../src/testing/simulated/simulated-reactor.js';

describe('readListenFds', () => {
  it('lists LISTEN_FDS descriptors from 3 when LISTEN_PID is this process, and unsets the variables', () => {
    const env: NodeJS.ProcessEnv = {
      LISTEN_PID: '42',
      LISTEN_FDS: '2',
      LISTEN_FDNAMES: 'a:b',
      HOME: '/h',
    };
    expect(readListenFds(env, 42)).to.deep.equal([LISTEN_FDS_START, LISTEN_FDS_START + 1]);
    expect(env).to.deep.equal({ HOME: '/h' });
  });

  it("ignores variables meant for another process (a parent's), and still unsets them", () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '41', LISTEN_FDS: '1' };
    expect(readListenFds(env, 42)).to.deep.equal([]);
    expect(env).to.deep.equal({});
  });

  it('keeps the variables when asked not to unset them', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '1' };
    expect(readListenFds(env, 42, false)).to.deep.equal([3]);
    expect(env).to.include({ LISTEN_FDS: '1' });
  });

  it('has none without the variables, and refuses a LISTEN_FDS that is not a count', () => {
    expect(readListenFds({}, 42)).to.deep.equal([]);
    expect(() => readListenFds({ LISTEN_PID: '42', LISTEN_FDS: 'many' }, 42)).to.throw(
      EndpointError,
      /LISTEN_FDS must be a number/,
    );
  });
});

describe('readListenSockets', () => {
  it('reads the names of LISTEN_FDNAMES in the order of the descriptors', () => {
    const env: NodeJS.ProcessEnv = {
      LISTEN_PID: '42',
      LISTEN_FDS: '2',
      LISTEN_FDNAMES: 'web:admin',
    };
    expect(readListenSockets(env, 42)).to.deep.equal({ fds: [3, 4], names: ['web', 'admin'] });
    expect(env).to.deep.equal({});
  });

  it('has no names without LISTEN_FDNAMES (systemd before 227), and keeps the descriptors', () => {
    expect(readListenSockets({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42)).to.deep.equal({
      fds: [3],
      names: null,
    });
  });
});

describe('systemdEndpointNamed', () => {
  const reactor = {
    adoptStreamPort: () => {
      throw new Error('not called');
    },
  };

  it('adopts the one descriptor with that name', () => {
    const endpoint = systemdEndpointNamed(reactor, 'UNIX', 'admin', {
      fds: [3, 4, 5],
      names: ['web', 'admin', 'metrics'],
    });
    expect(endpoint).to.include({ fd: 4, family: 'UNIX' });
  });

  it('refuses a name no socket has, listing the names there are', () => {
    expect(() =>
      systemdEndpointNamed(reactor, 'INET', 'api', { fds: [3, 4], names: ['web', 'admin'] }),
    ).to.throw(
      EndpointError,
      /name=api: no inherited socket has that name \(they are named 'web', 'admin'\)/,
    );
  });

  it('refuses a name two sockets share (unlike Twisted, which takes the last), naming their indexes', () => {
    expect(() =>
      systemdEndpointNamed(reactor, 'INET', 'web.socket', {
        fds: [3, 4, 5],
        names: ['web.socket', 'admin', 'web.socket'],
      }),
    ).to.throw(
      EndpointError,
      /2 inherited sockets have that name \(indexes 0, 2\); pick one with index=N/,
    );
  });

  it('refuses a lookup by name without names, or with names that do not match the descriptors', () => {
    expect(() => systemdEndpointNamed(reactor, 'INET', 'web', { fds: [3], names: null })).to.throw(
      EndpointError,
      /no inherited socket has a name \(LISTEN_FDNAMES is not set/,
    );
    expect(() =>
      systemdEndpointNamed(reactor, 'INET', 'web', { fds: [3, 4], names: ['web'] }),
    ).to.throw(
      EndpointError,
      /LISTEN_FDNAMES names 1 sockets but LISTEN_FDS passed 2; use index=N/,
    );
  });
});

describe('systemdEndpoint', () => {
  it('adopts the index-th inherited descriptor with its family', async () => {
    const adopted: unknown[][] = [];
    const reactor = Object.assign(new MemoryReactor(), {
      adoptStreamPort: (...args: unknown[]) => {
        adopted.push(args);
        return reactor.listenTCP(0, Factory.forProtocol(Protocol));
      },
    });
    const endpoint = systemdEndpoint(reactor, 'INET6', 1, [3, 4]);
    expect(endpoint)
      .to.be.instanceOf(AdoptedStreamServerEndpoint)
      .and.include({ fd: 4, family: 'INET6' });
    const factory = Factory.forProtocol(Protocol);
    await endpoint.listen(factory);
    expect(adopted).to.deep.equal([[4, 'INET6', factory]]);
  });

  it('names how many sockets there are when the index is past them', () => {
    expect(() =>
      systemdEndpoint(
        {
          adoptStreamPort: () => {
            throw new Error('no');
          },
        },
        'INET',
        2,
        [3, 4],
      ),
    ).to.throw(
      EndpointError,
      /index=2 names an inherited socket this process does not have \(it has 2;/,
    );
  });

  it("a reactor that cannot adopt makes listen() fail with the reactor's error", async () => {
    const endpoint = new AdoptedStreamServerEndpoint(
      {
        adoptStreamPort: () => {
          throw new Error('no descriptors here');
        },
      },
      3,
      'INET',
    );
    const failure = await endpoint.listen(Factory.forProtocol(Protocol)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(Error).with.property('message', 'no descriptors here');
  });
});

describe('MemoryReactor.adoptStreamPort', () => {
  it('records the call and returns a listening port, so a systemd: endpoint is testable anywhere', async () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const port = await systemdEndpoint(reactor, 'INET6', 0, [3]).listen(factory);
    expect(reactor.adoptedPorts).to.have.length(1);
    expect(reactor.adoptedPorts[0]).to.include({ fd: 3, family: 'INET6', factory });
    expect(port).to.equal(reactor.adoptedPorts[0]?.listeningPort);
    expect(port.getHost()).to.include({ host: '::' });
    expect(() => reactor.adoptStreamPort(-1, 'INET', factory)).to.throw(TypeError);
  });
});

describe('SimulatedReactor.adoptStreamPort', () => {
  it('throws an error naming the capability: a simulated network has no descriptors', () => {
    expect(() =>
      new SimulatedReactor({ seed: 1 }).adoptStreamPort(3, 'INET', Factory.forProtocol(Protocol)),
    ).to.throw(Error, /no file descriptors \(capability adoptStreamPort\)/);
  });
});
