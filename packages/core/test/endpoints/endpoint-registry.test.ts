// Tests for src/endpoints/endpoint-registry.ts: serverFromString/clientFromString, the registry of
// endpoint types, and the built-in types' build step.
import { expect } from 'chai';
import fc from 'fast-check';
import {
  AdoptedStreamServerEndpoint,
  clientEndpointPrefixes,
  clientFromString,
  datagramServerFromString,
  EndpointError,
  formatClientDescription,
  formatServerDescription,
  parseClientDescription,
  HostnameEndpoint,
  parseServerDescription,
  registerClientEndpointType,
  registerServerEndpointType,
  serverDescriptionKind,
  serverEndpointPrefixes,
  serverFromString,
  SSL4ClientEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UDPServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
  type ClientEndpointType,
  type EndpointDescription,
  type ServerEndpointType,
} from '../../src/endpoints/index.js';
import { Factory } from '../../src/factory.js';
import type { IStreamServerEndpoint } from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import { MemoryReactor, MemoryReactorClock } from '../../src/testing/memory-reactor.js';

interface MemcacheDescription extends EndpointDescription {
  readonly type: 'memcache';
  readonly pool: string;
}

/** A third-party type: serves on the reactor's TCP port 11211 of a named pool. */
const MEMCACHE: ServerEndpointType<MemcacheDescription> = {
  kind: 'stream',
  usage: 'memcache:POOL',
  parse(fields, description) {
    const pool = fields[0]?.value;
    if (pool === undefined || pool === '')
      throw new EndpointError(`endpoint '${description}': needs a pool`);
    return { type: 'memcache', pool };
  },
  format: (d) => `memcache:${d.pool}`,
  build: (reactor) => new TCP4ServerEndpoint(reactor as MemoryReactor, 11211),
};

/** A reactor with TCP and nothing else, to be refused the other types by name. */
class TCPOnlyReactor {
  listenTCP(): never {
    throw new Error('not called');
  }
}

describe('serverFromString', () => {
  const reactor = new MemoryReactorClock();

  it('builds the endpoint class of each built-in type with the parsed options', () => {
    const tcp = serverFromString(reactor, 'tcp:8007:interface=127.0.0.1:backlog=9');
    expect(tcp)
      .to.be.instanceOf(TCP4ServerEndpoint)
      .and.include({ port: 8007, interface: '127.0.0.1', backlog: 9 });
    expect(serverFromString(reactor, 'tcp6:80'))
      .to.be.instanceOf(TCP6ServerEndpoint)
      .and.include({ interface: '::' });
    const unix = serverFromString(
      Object.assign(new MemoryReactor(), { listenUNIX: () => null }),
      'unix:@torsion:mode=0600:lockfile=1',
    );
    expect(unix).to.be.instanceOf(UNIXServerEndpoint).and.include({ path: '\0torsion' });
    if (!(unix instanceof UNIXServerEndpoint)) throw new Error('not unix');
    expect(unix.options).to.deep.equal({
      backlog: 4096,
      wantPID: true,
      mode: 0o600,
    });
  });

  it('listens through the reactor, firing with the bound port', async () => {
    const memory = new MemoryReactor();
    const port = await serverFromString(memory, 'tcp:0:interface=127.0.0.1').listen(
      Factory.forProtocol(Protocol),
    );
    expect(memory.tcpServers[0]).to.include({ port: 0, interface: '127.0.0.1', backlog: 4096 });
    expect(port).to.equal(memory.tcpServers[0]?.listeningPort);
  });

  it('refuses a type the reactor cannot serve, naming the reactor and the interface it lacks', () => {
    expect(() => serverFromString(new TCPOnlyReactor(), 'unix:/tmp/x.sock')).to.throw(
      EndpointError,
      /reactor TCPOnlyReactor cannot serve unix:\/tmp\/x.sock: it does not implement listenUNIX \(IReactorUNIX\)/,
    );
    expect(() => serverFromString({}, 'ssl:1:privateKey=k.pem')).to.throw(
      EndpointError,
      /cannot serve ssl:1:privateKey=k.pem: it does not implement listenSSL \(IReactorSSL\)/,
    );
  });

  it('keeps datagram and stream types apart', () => {
    expect(() => serverFromString(reactor, 'udp:7')).to.throw(
      EndpointError,
      /receives datagrams; use datagramServerFromString/,
    );
    expect(() => datagramServerFromString(reactor, 'tcp:7')).to.throw(
      EndpointError,
      /stream endpoint; use serverFromString/,
    );
    const udp = datagramServerFromString(
      Object.assign(new MemoryReactor(), { listenUDP: () => null }),
      'udp:7:interface=\\:\\:1:maxPacketSize=1500',
    );
    expect(udp).to.be.instanceOf(UDPServerEndpoint);
    if (!(udp instanceof UDPServerEndpoint)) throw new Error('not udp');
    expect(udp.options).to.deep.equal({
      interface: '::1',
      maxPacketSize: 1500,
    });
  });

  it('builds systemd: on a reactor that adopts sockets, and names the missing socket otherwise', () => {
    const adopting = Object.assign(new MemoryReactor(), {
      adoptStreamPort: (): never => {
        throw new Error('not called');
      },
    });
    // This test process was not socket-activated: it inherited no descriptors.
    expect(() => serverFromString(adopting, 'systemd:domain=INET:index=0')).to.throw(
      EndpointError,
      /index=0 names an inherited socket this process does not have \(it has 0;/,
    );
    expect(() => serverFromString(new TCPOnlyReactor(), 'systemd:domain=INET:index=0')).to.throw(
      EndpointError,
      /does not implement adoptStreamPort \(IReactorSocket\)/,
    );
    expect(new AdoptedStreamServerEndpoint(adopting, 3, 'INET')).to.include({ fd: 3 });
  });
});

describe('the registry', () => {
  it('a registered type is parsed, formatted and built like a built-in one', () => {
    registerServerEndpointType('memcache', MEMCACHE);
    registerServerEndpointType('memcache', MEMCACHE); // again, as a module imported twice
    expect(serverEndpointPrefixes()).to.include('memcache');
    const description = parseServerDescription('MEMCACHE:sessions');
    expect(description).to.deep.equal({ type: 'memcache', pool: 'sessions' });
    expect(formatServerDescription(description)).to.equal('memcache:sessions');
    expect(serverDescriptionKind(description)).to.equal('stream');
    const endpoint: IStreamServerEndpoint = serverFromString(new MemoryReactor(), 'memcache:a');
    expect(endpoint).to.be.instanceOf(TCP4ServerEndpoint);
  });

  it('refuses a prefix taken by another type, and a malformed prefix', () => {
    expect(() => registerServerEndpointType('tcp', MEMCACHE)).to.throw(
      Error,
      /prefix 'tcp' is already registered/,
    );
    expect(() => registerServerEndpointType('no:colons', MEMCACHE)).to.throw(TypeError);
  });

  it('turns anything but an EndpointError thrown by a third-party parser into one', () => {
    const broken: ClientEndpointType = {
      usage: 'broken:',
      parse: () => {
        throw new TypeError('oops');
      },
      format: () => 'broken:',
      build: () => new TCP4ClientEndpoint(new MemoryReactor(), 'h', 1),
    };
    registerClientEndpointType('broken', broken);
    expect(clientEndpointPrefixes()).to.include('broken');
    expect(() => clientFromString(new MemoryReactor(), 'broken:x')).to.throw(
      EndpointError,
      /'broken:x': oops/,
    );
  });
});

describe('clientFromString', () => {
  it('builds the endpoint class of each built-in type', () => {
    const reactor = Object.assign(new MemoryReactorClock(), { connectUNIX: () => null });
    expect(clientFromString(reactor, 'tcp:example.com:80:timeout=3'))
      .to.be.instanceOf(TCP4ClientEndpoint)
      .and.include({ host: 'example.com', port: 80 });
    expect(clientFromString(reactor, 'tcp6:\\:\\:1:80'))
      .to.be.instanceOf(TCP6ClientEndpoint)
      .and.include({ host: '::1' });
    expect(clientFromString(reactor, 'tls:localhost:443')).to.be.instanceOf(SSL4ClientEndpoint);
    const unix = clientFromString(reactor, 'unix:/run/a.sock:timeout=2:checkPID=1');
    expect(unix).to.be.instanceOf(UNIXClientEndpoint);
    if (!(unix instanceof UNIXClientEndpoint)) throw new Error('not unix');
    expect(unix.options).to.deep.equal({ timeout: 2, checkPID: true });
    expect(HostnameEndpoint).to.be.a('function');
  });
});

describe('every built-in client type', () => {
  it('never throws anything but EndpointError for a string after any known prefix', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('tcp', 'tcp6', 'tls', 'ssl', 'unix'),
        fc.string({ unit: 'binary' }),
        (prefix, rest) => {
          try {
            parseClientDescription(`${prefix}:${rest}`);
          } catch (err) {
            expect(err).to.be.instanceOf(EndpointError);
          }
        },
      ),
    );
  });

  it('round-trips unix: descriptions, paths and abstract names', () => {
    const path = fc
      .string({ minLength: 1, maxLength: 30, unit: 'binary' })
      .filter((p) => !p.startsWith('@') && !p.startsWith('\0'));
    const description = fc.record({
      type: fc.constant('unix'),
      path: fc.oneof(
        path,
        path.map((p) => `\0${p}`),
      ),
      timeout: fc.oneof(fc.constant(30), fc.integer({ min: 1, max: 600 })),
      checkPID: fc.boolean(),
    });
    fc.assert(
      fc.property(description, (given: EndpointDescription) => {
        expect(parseClientDescription(formatClientDescription(given))).to.deep.equal(given);
      }),
    );
  });
});

describe('every built-in server type', () => {
  it('round-trips parse → format → parse for generated descriptions', () => {
    const iface = fc.oneof(fc.constant(''), fc.ipV4(), fc.ipV6());
    const port = fc.integer({ min: 0, max: 65535 });
    const backlog = fc.integer({ min: 1, max: 65535 });
    const path = fc
      .string({ minLength: 1, maxLength: 30, unit: 'binary' })
      .filter((p) => !p.startsWith('@') && !p.startsWith('\0'));
    const description = fc.oneof(
      fc.record({ type: fc.constant('tcp'), port, interface: iface, backlog }),
      fc.record({
        type: fc.constant('tcp6'),
        port,
        interface: fc.oneof(fc.constant('::'), fc.ipV6()),
        backlog,
      }),
      fc.record({
        type: fc.constant('unix'),
        path: fc.oneof(
          path,
          path.map((p) => `\0${p}`),
        ),
        mode: fc.option(fc.integer({ min: 0, max: 0o7777 })),
        wantPID: fc.boolean(),
        backlog,
      }),
      fc.record({
        type: fc.constant('systemd'),
        domain: fc.constantFrom('INET', 'INET6', 'UNIX'),
        index: fc.integer({ min: 0, max: 100 }),
        name: fc.constant(null),
      }),
      fc.record({
        type: fc.constant('systemd'),
        domain: fc.constantFrom('INET', 'INET6', 'UNIX'),
        index: fc.constant(null),
        name: fc.stringMatching(/^[\x20-\x39\x3b-\x7e]{1,40}$/),
      }),
      fc.record({
        type: fc.constant('udp'),
        port,
        interface: iface,
        maxPacketSize: fc.option(fc.integer({ min: 1, max: 65535 })),
      }),
    );
    fc.assert(
      fc.property(description, (given: EndpointDescription) => {
        expect(parseServerDescription(formatServerDescription(given))).to.deep.equal(given);
      }),
    );
  });

  it('never throws anything but EndpointError for a string after any known prefix', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('tcp', 'tcp6', 'ssl', 'tls', 'unix', 'systemd', 'udp'),
        fc.string({ unit: 'binary' }),
        (prefix, rest) => {
          try {
            parseServerDescription(`${prefix}:${rest}`);
          } catch (err) {
            expect(err).to.be.instanceOf(EndpointError);
          }
        },
      ),
    );
  });
});
