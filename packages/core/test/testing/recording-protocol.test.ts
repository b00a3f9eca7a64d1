// Tests for src/testing/recording-protocol.ts, echoing-protocol.ts and
// half-close-recording-protocol.ts, over in-memory connections.
import { expect } from 'chai';

import { ConnectionDone } from '../../src/errors.js';
import { Failure } from '../../src/failure.js';
import { EchoingProtocol } from '../../src/testing/echoing-protocol.js';
import { HalfCloseRecordingProtocol } from '../../src/testing/half-close-recording-protocol.js';
import { connectedServerAndClient } from '../../src/testing/io-pump.js';
import { RecordingProtocol } from '../../src/testing/recording-protocol.js';
import { StringTransport } from '../../src/testing/string-transport.js';

describe('RecordingProtocol', () => {
  it('records connectionMade, each chunk, the byte count and connectionLost with its reason', async () => {
    const p = new RecordingProtocol();
    p.makeConnection(new StringTransport());
    expect(await p.made).to.equal(p);
    p.dataReceived(Buffer.from('ab'));
    p.dataReceived(Buffer.from('cde'));
    const reason = new Failure(new ConnectionDone());
    p.connectionLost(reason);

    expect(p.events).to.deep.equal(['connectionMade', 'connectionLost']);
    expect(p.chunks.map((c) => c.toString())).to.deep.equal(['ab', 'cde']);
    expect(p.byteCount).to.equal(5);
    expect(p.text()).to.equal('abcde');
    expect(p.reason).to.equal(reason);
    expect(p.lostCount).to.equal(1);
    expect(await p.lost).to.equal(reason);
  });

  it('counts every connectionLost but keeps the first reason in lost', async () => {
    const p = new RecordingProtocol();
    const first = new Failure(new ConnectionDone());
    p.connectionLost(first);
    p.connectionLost(new Failure(new Error('again')));
    expect(p.lostCount).to.equal(2);
    expect(await p.lost).to.equal(first);
  });

  it('waitForBytes resolves with everything received once enough has arrived', async () => {
    const p = new RecordingProtocol();
    const waiting = p.waitForBytes(4);
    p.dataReceived(Buffer.from('ab'));
    let done = false;
    void waiting.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).to.equal(false);
    p.dataReceived(Buffer.from('cdef'));
    expect((await waiting).toString()).to.equal('abcdef');
    expect((await p.waitForBytes(2)).toString()).to.equal('abcdef');
  });

  it('waitForBytes rejects, naming the shortfall, when the connection is lost first', async () => {
    const p = new RecordingProtocol();
    const waiting = p.waitForBytes(10);
    p.dataReceived(Buffer.from('abc'));
    p.connectionLost(new Failure(new ConnectionDone()));
    const err = await waiting.then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.equal('connection lost after 3 of 10 expected bytes');
    // After the loss, a wait that is already satisfied still resolves.
    expect((await p.waitForBytes(3)).toString()).to.equal('abc');
  });

  it('sends chunks to a sink instead of keeping them, still counting bytes', async () => {
    const p = new RecordingProtocol();
    const fed: string[] = [];
    p.sink = { feed: (data) => fed.push(data.toString()) };
    p.dataReceived(Buffer.from('xy'));
    p.dataReceived(Buffer.from('z'));
    expect(fed).to.deep.equal(['xy', 'z']);
    expect(p.chunks).to.deep.equal([]);
    expect(p.byteCount).to.equal(3);
    expect((await p.waitForBytes(3)).length).to.equal(0);
  });
});

describe('EchoingProtocol', () => {
  it('records each chunk and writes it back', () => {
    const { client, server, pump } = connectedServerAndClient({
      serverProtocol: new EchoingProtocol(),
      clientProtocol: new RecordingProtocol(),
    });
    client.transport.write('hello');
    pump.flush();
    expect(server.text()).to.equal('hello');
    expect(client.text()).to.equal('hello');
  });
});

describe('HalfCloseRecordingProtocol', () => {
  it('records the read and write halves closing, then the whole connection', async () => {
    const { client, server, pump } = connectedServerAndClient({
      serverProtocol: new HalfCloseRecordingProtocol(),
      clientProtocol: new HalfCloseRecordingProtocol(),
    });
    client.transport.loseWriteConnection();
    pump.flush();
    await client.writeLost;
    await server.readLost;
    expect(server.readLost.called).to.equal(true);
    expect(server.events).to.deep.equal(['connectionMade', 'readConnectionLost']);
    expect(client.events).to.deep.equal(['connectionMade', 'writeConnectionLost']);

    server.transport.loseWriteConnection();
    pump.flush();
    expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    // Both halves are closed, so the peer's FIN ends the connection.
    expect(client.events.slice(1)).to.deep.equal(['writeConnectionLost', 'connectionLost']);
    expect(server.events.at(-1)).to.equal('connectionLost');
  });
});
