// FingerClient and finger() against in-memory servers and a fake reactor.
import { expect } from 'chai';
import {
  ConnectError,
  ConnectionLost,
  ConnectionRefusedError,
  type Deferred,
  DeferredTimeoutError,
  Failure,
} from '@torsion/core';
import {
  MemoryReactorClock,
  StringTransport,
  connectedServerAndClient,
} from '@torsion/core/testing';
import { FingerReplyTooLongError } from '../src/errors.js';
import { FingerClient, finger } from '../src/finger-client.js';
import { FingerFactory } from '../src/finger-server.js';

function outcome<T>(d: Deferred<T>): { value?: T; error?: Error } {
  const seen: { value?: T; error?: Error } = {};
  d.addCallbacks(
    (value) => {
      seen.value = value;
    },
    (failure: Failure) => {
      seen.error = failure.value;
    },
  );
  return seen;
}

describe('FingerClient', () => {
  it('sends the query with CRLF and fires with the reply when the server closes', () => {
    const reactor = new MemoryReactorClock();
    const client = new FingerClient('/W moshez');
    const { pump } = connectedServerAndClient({
      serverFactory: new FingerFactory({ users: { moshez: 'Happy and well' }, reactor }),
      clientProtocol: client,
      chunking: 1,
    });
    pump.flush();
    const seen = outcome(client.reply);
    expect(seen.value?.toString()).to.equal('Login: moshez\r\nHappy and well\r\n');
  });

  it('fails with FingerReplyTooLongError and drops the connection past the limit', () => {
    const client = new FingerClient('x', 8);
    const transport = new StringTransport();
    client.makeConnection(transport);
    client.dataReceived(Buffer.from('123456789'));
    expect(transport.aborted).to.equal(true);
    client.connectionLost(new Failure(new ConnectionLost()));
    const seen = outcome(client.reply);
    expect(seen.error).to.be.instanceOf(FingerReplyTooLongError);
  });
});

describe('finger()', () => {
  it('connects to host:port, sends /W for verbose, and gives the cleaned-up text', () => {
    const reactor = new MemoryReactorClock();
    const seen = outcome(
      finger('alice', { host: 'example.org', port: 7979, verbose: true, reactor }),
    );
    const record = reactor.tcpClients[0]!;
    expect([record.host, record.port]).to.deep.equal(['example.org', 7979]);
    const conn = record.connector.completeConnection()!;
    expect(conn.transport.value().toString()).to.equal('/W alice\r\n');
    conn.protocol.dataReceived(Buffer.from('Login: alice\r\n\x1b[1mbold\r\n'));
    record.connector.dropConnection();
    expect(seen.value).to.equal('Login: alice\n\ufffd[1mbold\n');
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it("shows a hostile reply's C1, bidi and invalid bytes as U+FFFD, removing nothing", () => {
    const reactor = new MemoryReactorClock();
    const seen = outcome(finger('alice', { host: 'example.org', reactor }));
    const record = reactor.tcpClients[0]!;
    const conn = record.connector.completeConnection()!;
    conn.protocol.dataReceived(
      Buffer.concat([
        Buffer.from('Login: ali\u0085ce\r\n\u202eecila\r\n'),
        Buffer.from([0x9b, 0x32, 0x4a, 0x0d, 0x0a]),
      ]),
    );
    record.connector.dropConnection();
    expect(seen.value).to.equal('Login: ali\ufffdce\n\ufffdecila\n\ufffd2J\n');
  });

  it('defaults to port 79', () => {
    const reactor = new MemoryReactorClock();
    void finger('', { host: 'h', reactor }).addErrback(() => null);
    expect(reactor.tcpClients[0]?.port).to.equal(79);
  });

  it('fails with the connection error when the connection is refused', () => {
    const reactor = new MemoryReactorClock();
    const seen = outcome(finger('a', { host: 'h', reactor }));
    reactor.tcpClients[0]!.connector.failConnection();
    expect(seen.error).to.be.instanceOf(ConnectionRefusedError);
  });

  it('fails when the connection is lost rather than closed', () => {
    const reactor = new MemoryReactorClock();
    const seen = outcome(finger('a', { host: 'h', reactor }));
    reactor.tcpClients[0]!.connector.completeConnection();
    reactor.tcpClients[0]!.connector.dropConnection(new ConnectionLost());
    expect(seen.error).to.be.instanceOf(ConnectionLost);
  });

  it('fails with DeferredTimeoutError (not a ConnectError) when no reply comes in time, and disconnects', () => {
    const reactor = new MemoryReactorClock();
    const seen = outcome(finger('a', { host: 'h', reactor, timeout: 3 }));
    const conn = reactor.tcpClients[0]!.connector.completeConnection()!;
    reactor.advance(2.9);
    expect(seen.error).to.equal(undefined);
    reactor.advance(0.1);
    expect(seen.error).to.be.instanceOf(DeferredTimeoutError);
    expect(seen.error).not.to.be.instanceOf(ConnectError);
    expect(conn.transport.disconnecting).to.equal(true);
  });

  it('cancelling stops the timer and the connection', () => {
    const reactor = new MemoryReactorClock();
    const d = finger('a', { host: 'h', reactor });
    const seen = outcome(d);
    d.cancel();
    expect(seen.error?.name).to.equal('CancelledError');
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('throws a RangeError for a bad timeout', () => {
    expect(() =>
      finger('a', { host: 'h', timeout: 0, reactor: new MemoryReactorClock() }),
    ).to.throw(RangeError);
  });
});
