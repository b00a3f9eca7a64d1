// FingerServer and FingerFactory over StringTransport, with a fake clock.
import { expect } from 'chai';
import { ConnectionDone, Failure, IPv4Address, type IProtocol, fail } from '@torsion/core';
import {
  LogCapture,
  MemoryReactorClock,
  StringTransportWithDisconnection,
  fixedChunker,
} from '@torsion/core/testing';
import { FingerFactory, type FingerFactoryOptions, FingerServer } from '../src/finger-server.js';
import { MemoryUserDatabase } from '../src/user-database.js';

const USERS = { moshez: 'Happy and well', amy: 'Line one\nLine \x1b[31mtwo\x07' };

function connect(options: FingerFactoryOptions = {}): {
  transport: StringTransportWithDisconnection;
  proto: IProtocol;
  reactor: MemoryReactorClock;
  send: (text: string) => string;
} {
  const reactor = new MemoryReactorClock();
  const factory = new FingerFactory({ users: USERS, reactor, ...options });
  const proto = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 54321))!;
  const transport = new StringTransportWithDisconnection({ protocol: proto });
  proto.makeConnection(transport);
  return {
    transport,
    proto,
    reactor,
    send(text) {
      proto.dataReceived(Buffer.from(text));
      return transport.value().toString();
    },
  };
}

describe('FingerServer', () => {
  const table: [string, FingerFactoryOptions, string][] = [
    ['moshez\r\n', {}, 'Login: moshez\r\nHappy and well\r\n'],
    ['/W moshez\r\n', {}, 'Login: moshez\r\nHappy and well\r\n'],
    ['bob\r\n', {}, 'Login: bob\r\nNo such user\r\n'],
    ['\r\n', {}, 'Finger online list denied\r\n'],
    ['/W\r\n', {}, 'Finger online list denied\r\n'],
    ['\r\n', { allowList: true }, 'moshez\r\namy\r\n'],
    ['\r\n', { allowList: true, users: {} }, 'No users\r\n'],
    ['bob@host.example\r\n', {}, 'Finger forwarding service denied\r\n'],
    ['@host.example\r\n', {}, 'Finger forwarding service denied\r\n'],
    ['foo bar\r\n', {}, 'Invalid finger query\r\n'],
  ];
  for (const [input, options, output] of table) {
    it(`answers ${JSON.stringify(input)} ${JSON.stringify(options)} with ${JSON.stringify(output)} and closes`, () => {
      const { send, transport } = connect(options);
      expect(send(input)).to.equal(output);
      expect(transport.connected).to.equal(false);
    });
  }

  it('replaces control characters in user info with U+FFFD and ends its lines with CRLF', () => {
    expect(connect().send('amy\r\n')).to.equal(
      'Login: amy\r\nLine one\r\nLine \ufffd[31mtwo\ufffd\r\n',
    );
  });

  // Issue #9: `ali<NEL>ce` (NEL as UTF-8, or as the raw Latin-1 byte) was
  // answered `Login: alice`: a different user than the one asked about.
  const spoofs: [string, number[]][] = [
    ['NEL encoded as UTF-8', [0x61, 0x6c, 0x69, 0xc2, 0x85, 0x63, 0x65]],
    ['a raw NEL byte', [0x61, 0x6c, 0x69, 0x85, 0x63, 0x65]],
    ['a zero-width space', [...Buffer.from('ali\u200bce')]],
    ['a right-to-left override', [...Buffer.from('\u202eecila')]],
    ['an overlong A', [0x61, 0x6c, 0x69, 0xc1, 0x81, 0x63, 0x65]],
  ];
  for (const [what, bytes] of spoofs) {
    it(`refuses a query holding ${what} as invalid, never naming another user`, () => {
      const { proto, transport } = connect({ users: { alice: 'Secret plans' } });
      proto.dataReceived(Buffer.from([...bytes, 0x0d, 0x0a]));
      expect(transport.value().toString()).to.equal('Invalid finger query\r\n');
      expect(transport.connected).to.equal(false);
    });
  }

  it('answers a UTF-8 name', () => {
    const { send } = connect({ users: { josé: 'Bonjour' } });
    expect(send('josé\r\n')).to.equal('Login: josé\r\nBonjour\r\n');
  });

  it('shows listed names that hold invisible characters with U+FFFD', () => {
    const { send } = connect({ allowList: true, users: { alice: 'a', 'ali\u200bce': 'b' } });
    expect(send('\r\n')).to.equal('alice\r\nali\ufffdce\r\n');
  });

  it('gives the same reply whatever the chunking', () => {
    for (let size = 1; size <= 8; size++) {
      const { proto, transport } = connect();
      for (const piece of fixedChunker(size)(Buffer.from('/W moshez\r\n'))) {
        proto.dataReceived(piece);
      }
      expect(transport.value().toString()).to.equal('Login: moshez\r\nHappy and well\r\n');
    }
  });

  it('answers only the first line', () => {
    expect(connect().send('moshez\r\nbob\r\n')).to.equal('Login: moshez\r\nHappy and well\r\n');
  });

  it('never connects out for user@host when forwarding is off', () => {
    const { send, reactor } = connect();
    send('bob@127.0.0.1\r\n');
    expect(reactor.tcpClients).to.have.length(0);
  });

  it('forwards user@b@c to c as user@b when forwarding is on', () => {
    const { send, reactor, transport } = connect({ forwarding: true, forwardPort: 7979 });
    send('/W alice@b@c\r\n');
    expect(reactor.tcpClients).to.have.length(1);
    const record = reactor.tcpClients[0]!;
    expect([record.host, record.port]).to.deep.equal(['c', 7979]);
    const remote = record.connector.completeConnection()!;
    expect(remote.transport.value().toString()).to.equal('/W alice@b\r\n');
    remote.protocol.dataReceived(Buffer.from('Login: alice\r\n\x1b[2Jhello\n'));
    record.connector.dropConnection();
    expect(transport.value().toString()).to.equal('Login: alice\r\n\ufffd[2Jhello\r\n');
    expect(transport.connected).to.equal(false);
  });

  it('replies with the reason when forwarding fails', () => {
    const { send, reactor, transport } = connect({ forwarding: true });
    send('alice@nowhere\r\n');
    reactor.tcpClients[0]!.connector.failConnection();
    expect(transport.value().toString()).to.match(/^Finger forwarding to nowhere failed: .+\r\n$/);
  });

  it('closes a connection that sends a query over the length limit, with a message', () => {
    const { send, transport } = connect({ maxQueryLength: 16 });
    expect(send('x'.repeat(40))).to.equal('Finger query too long\r\n');
    expect(transport.connected).to.equal(false);
  });

  it('accepts a query exactly at the length limit', () => {
    expect(connect({ maxQueryLength: 6 }).send('moshez\r\n')).to.contain('Happy and well');
  });

  it('closes an idle connection after idleTimeout seconds, and not before', () => {
    const { reactor, transport } = connect({ idleTimeout: 5 });
    reactor.advance(4.9);
    expect(transport.connected).to.equal(true);
    reactor.advance(0.1);
    expect(transport.connected).to.equal(false);
    expect(transport.value().length).to.equal(0);
  });

  it('cancels the idle timer once the query arrives or the client leaves', () => {
    const first = connect({ idleTimeout: 5 });
    first.send('moshez\r\n');
    expect(first.reactor.getDelayedCalls()).to.have.length(0);
    const second = connect({ idleTimeout: 5 });
    second.proto.connectionLost(new Failure(new ConnectionDone()));
    expect(second.reactor.getDelayedCalls()).to.have.length(0);
  });

  it('logs a failing database and replies with a generic error', () => {
    const capture = LogCapture.start();
    try {
      const users = {
        getUser: () => fail<string | null>(new Error('database down')),
        listUsers: () => {
          throw new Error('no list');
        },
      };
      expect(connect({ users }).send('moshez\r\n')).to.equal(
        'Finger service error: the user database failed\r\n',
      );
      expect(connect({ users, allowList: true }).send('\r\n')).to.equal(
        'Finger service error: the user database failed\r\n',
      );
      expect(capture.events.map((e) => e.message)).to.include('Finger lookup failed');
    } finally {
      capture.stop();
    }
  });

  it('still answers a client that half-closes right after its query', async () => {
    let resolve: (v: string | null) => void = () => {};
    const users = {
      getUser: () => new Promise<string | null>((r) => (resolve = r)),
      listUsers: () => Promise.resolve([]),
    };
    const { send, proto, transport } = connect({ users });
    send('moshez\r\n');
    if (!(proto instanceof FingerServer)) throw new Error('the factory built something else');
    proto.readConnectionLost();
    expect(transport.disconnecting).to.equal(false);
    resolve('Happy and well');
    await new Promise((r) => setImmediate(r));
    expect(transport.value().toString()).to.include('Happy and well');
    expect(transport.disconnecting).to.equal(true);
  });

  it('closes a client that half-closes without a query', () => {
    const { proto, transport, reactor } = connect();
    if (!(proto instanceof FingerServer)) throw new Error('the factory built something else');
    proto.readConnectionLost();
    expect(transport.disconnecting).to.equal(true);
    expect(transport.value().toString()).to.equal('');
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('does not write when the client left before the database answered', async () => {
    let resolve: (v: string | null) => void = () => {};
    const users = {
      getUser: () => new Promise<string | null>((r) => (resolve = r)),
      listUsers: () => Promise.resolve([]),
    };
    const { send, proto, transport } = connect({ users });
    send('moshez\r\n');
    proto.connectionLost(new Failure(new ConnectionDone()));
    transport.clear();
    resolve('late');
    await new Promise((r) => setImmediate(r));
    expect(transport.value().length).to.equal(0);
  });

  it('works with a MemoryUserDatabase changed at run time', () => {
    const users = new MemoryUserDatabase();
    users.set('zed', 'new');
    expect(connect({ users }).send('zed\r\n')).to.equal('Login: zed\r\nnew\r\n');
  });
});

describe('FingerFactory options', () => {
  for (const bad of [
    { idleTimeout: 0 },
    { idleTimeout: Infinity },
    { forwardTimeout: -1 },
    { forwardPort: 0 },
    { maxQueryLength: 0 },
  ]) {
    it(`rejects ${JSON.stringify(bad)} with a RangeError`, () => {
      expect(() => new FingerFactory(bad)).to.throw(RangeError);
    });
  }
});
