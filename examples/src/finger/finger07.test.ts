/**
 * Finger, step 7: testing the server without a network. `StringTransport`
 * stands in for the connection, `Clock` for the reactor's time, and
 * `connectedServerAndClient` joins a server and a client in memory.
 * Run: `npx mocha examples/src/finger/finger07.test.ts`
 */
/// <reference types="mocha" />
import { expect } from 'chai';
import { ConnectionDone } from '@torsion/core';
import type { Failure } from '@torsion/core';
import {
  Clock,
  StringTransport,
  connectedServerAndClient,
  fixedChunker,
} from '@torsion/core/testing';
import { LineReceiver } from '@torsion/line';
import { FingerFactory, FingerProtocol } from './finger07.js';

const users = new Map([['moshez', 'Happy and well']]);

/** A protocol on a StringTransport, with a fresh Clock as its time. */
function connect(): { clock: Clock; transport: StringTransport; proto: FingerProtocol } {
  const clock = new Clock();
  const proto = new FingerFactory(users, clock, 10).buildProtocol(new StringTransport().getPeer());
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return { clock, transport, proto };
}

/** A client that collects the reply lines and how the connection ended. */
class Collector extends LineReceiver {
  lines: string[] = [];
  lostReason: Failure | null = null;
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString('utf8'));
  }
  override connectionLost(reason: Failure): void {
    this.lostReason = reason;
  }
}

describe('finger07: the finger server', () => {
  it('answers a known user and hangs up', () => {
    const { transport, proto } = connect();
    proto.dataReceived(Buffer.from('moshez\r\n'));
    expect(transport.value().toString()).to.equal('Happy and well\r\n');
    expect(transport.disconnecting).to.equal(true);
  });

  it('answers "No such user" for anyone else', () => {
    const { transport, proto } = connect();
    proto.dataReceived(Buffer.from('nobody\r\n'));
    expect(transport.value().toString()).to.equal('No such user\r\n');
  });

  it('does not care how the query is split into packets', () => {
    const { transport, proto } = connect();
    for (const chunk of fixedChunker(1)(Buffer.from('moshez\r\n'))) proto.dataReceived(chunk);
    expect(transport.value().toString()).to.equal('Happy and well\r\n');
  });

  it('drops a client that sends nothing for 10 seconds, and not before', () => {
    const { clock, transport } = connect();
    clock.advance(9.9);
    expect(transport.disconnecting).to.equal(false);
    clock.advance(0.1);
    expect(transport.disconnecting).to.equal(true);
    expect(transport.value().length).to.equal(0);
  });

  it('stops the idle timer once the query arrives', () => {
    const { clock, proto } = connect();
    proto.dataReceived(Buffer.from('moshez\r\n'));
    expect(clock.getDelayedCalls()).to.deep.equal([]);
  });

  it('talks to a client through an in-memory connection', () => {
    const clock = new Clock();
    const { client, pump } = connectedServerAndClient({
      serverFactory: new FingerFactory(users, clock, 10),
      clientProtocol: new Collector(),
      clock,
    });
    client.sendLine('moshez');
    pump.flush();
    expect(client.lines).to.deep.equal(['Happy and well']);
    expect(client.lostReason?.check(ConnectionDone)).to.equal(ConnectionDone);
  });
});
