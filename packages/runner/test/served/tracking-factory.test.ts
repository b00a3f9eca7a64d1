import {
  ConnectionDone,
  ConnectionLost,
  Factory,
  Failure,
  IPv4Address,
  Protocol,
} from '@torsion/core';
import { StringTransport } from '@torsion/core/testing';
import { newPluginCounters } from '@torsion/metrics/counters';
import type { RefusalEvent } from '@torsion/policies';
import { expect } from 'chai';

import {
  TrackingFactory,
  type ConnectionObserver,
  type ConnectionRecord,
  type TrackedConnection,
} from '../../src/served/tracking-factory.js';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
    this.transport.write('é');
  }
}

function setup(keepRecords = true) {
  const counters = newPluginCounters('echo');
  const records: ConnectionRecord[] = [];
  const observer: ConnectionObserver = {
    connectionEnded: (_c, record) => {
      if (record !== null) records.push(record);
    },
  };
  const factory = new TrackingFactory(
    Factory.forProtocol(Echo),
    counters,
    'tcp:8007',
    observer,
    keepRecords,
  );
  const peer = new IPv4Address('TCP', '192.0.2.7', 4000);
  const host = new IPv4Address('TCP', '127.0.0.1', 8007);
  const connection = factory.buildProtocol(peer) as TrackedConnection;
  const transport = new StringTransport({ peerAddress: peer, hostAddress: host });
  connection.makeConnection(transport);
  return { counters, records, connection, factory };
}

describe('TrackingFactory', () => {
  it('counts bytes both ways and the open connection, per connection and per plugin', () => {
    const { counters, connection, factory } = setup();
    connection.dataReceived(Buffer.from('hello'));
    expect(connection.bytesIn).to.equal(5);
    expect(connection.bytesOut).to.equal(7); // 'hello' and the two UTF-8 bytes of 'é'
    expect(counters).to.include({ open: 1, accepted: 1, bytesIn: 5, bytesOut: 7 });
    expect(factory.protocols.size).to.equal(1);
  });

  it('records a clean close with the addresses the protocol saw', () => {
    const { counters, records, connection, factory } = setup();
    connection.dataReceived(Buffer.from('x'));
    connection.connectionLost(new Failure(new ConnectionDone()));
    expect(counters.open).to.equal(0);
    expect(counters.ended.clean).to.equal(1);
    expect(factory.protocols.size).to.equal(0);
    expect(records).to.have.length(1);
    expect(records[0]).to.include({
      plugin: 'echo',
      endpoint: 'tcp:8007',
      bytesIn: 1,
      bytesOut: 3,
      ending: 'clean',
    });
    expect(records[0]?.peer?.toString()).to.equal('192.0.2.7:4000');
    expect(records[0]?.local?.toString()).to.equal('127.0.0.1:8007');
  });

  it('records a loss with its error code as a protocol error, and a TLS failure as one too', () => {
    const { counters, records, connection } = setup();
    const lost = new ConnectionLost('reset', {
      cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    });
    connection.connectionLost(new Failure(lost));
    expect(records[0]).to.include({ ending: 'lost', error: 'TORSION_ERR_CONNECTION_LOST' });
    expect(counters.protocolErrors).to.equal(1);
    expect(counters.tlsHandshakeFailures).to.equal(0);
    const tls = setup();
    const tlsError = Object.assign(new Error('handshake'), { code: 'TORSION_ERR_TLS_NOT_TLS' });
    tls.connection.connectionLost(new Failure(new ConnectionLost('tls', { cause: tlsError })));
    expect(tls.counters.tlsHandshakeFailures).to.equal(1);
  });

  it('records a drain abort as drain-aborted, and builds no record when none is wanted', () => {
    const { records, connection, counters } = setup(false);
    connection.drainAborted = true;
    connection.connectionLost(new Failure(new ConnectionLost('aborted')));
    expect(counters.ended['drain-aborted']).to.equal(1);
    expect(counters.protocolErrors).to.equal(0);
    expect(records).to.have.length(0);
  });

  it('says what the wrapped factory says about reading into a shared buffer', () => {
    const { factory } = setup();
    expect(factory.readsIntoSharedBuffer).to.equal(false);
    const sharing = Object.assign(Factory.forProtocol(Echo), { readsIntoSharedBuffer: true });
    const observer: ConnectionObserver = { connectionEnded: () => undefined };
    const tracked = new TrackingFactory(
      sharing,
      newPluginCounters('echo'),
      'tcp:0',
      observer,
      false,
    );
    expect(tracked.readsIntoSharedBuffer).to.equal(true);
  });

  it('passes refusals made outside it (a haproxy: endpoint) to its onRefused', () => {
    const events: RefusalEvent[] = [];
    const observer: ConnectionObserver = { connectionEnded: () => undefined };
    const factory = new TrackingFactory(
      Factory.forProtocol(Echo),
      newPluginCounters('echo'),
      'haproxy:tcp:0',
      observer,
      false,
      (event) => events.push(event),
    );
    const event: RefusalEvent = {
      policy: 'haproxy',
      peer: new IPv4Address('TCP', '192.0.2.9', 1234),
      reason: 'untrusted-proxy',
    };
    factory.onRefused?.(event);
    expect(events).to.deep.equal([event]);
  });
});

describe('TrackedConnection transport members', () => {
  it("forwards the real transport's optional members from its prototype, and lacks those it lacks", () => {
    const { connection } = setup();
    const transport = (connection as unknown as { transport: StringTransport }).transport;
    expect(Object.getOwnPropertyNames(connection)).not.to.include('setTcpNoDelay');
    expect(connection.setTcpNoDelay).to.be.a('function');
    connection.setTcpNoDelay?.(true);
    expect(transport.getTcpNoDelay()).to.equal(true);
    expect(connection.getTcpNoDelay?.()).to.equal(true);
    expect(connection.startTLS).to.equal(undefined);
  });
});
