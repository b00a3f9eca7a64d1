// Real-socket tests of NodeReactor's UDP: binding, datagrams both ways,
// connected UDP, errors, IPv6, multicast. Loopback only, port 0, bounded.
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { IPv4Address, IPv6Address } from '../src/address.js';
import { DatagramProtocol } from '../src/datagram-protocol.js';
import {
  CannotListenError,
  InvalidAddressError,
  MessageLengthError,
  ReactorNotRestartable,
  UDPAlreadyConnectedError,
  UDPNotListeningError,
} from '../src/errors.js';
import type { INETAddress } from '../src/address.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { RecordingDatagramProtocol } from '../src/testing/index.js';

/** A plain `node:dgram` socket bound on loopback, for the other end. */
async function peerSocket(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
  const socket = createSocket(type);
  socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(socket, 'listening');
  return socket;
}

/** The next datagram `socket` receives. */
async function nextMessage(socket: Socket): Promise<{ data: Buffer; port: number }> {
  const [data, rinfo] = (await once(socket, 'message')) as [Buffer, { port: number }];
  return { data, port: rinfo.port };
}

/** Sends from a peer socket and waits for the send to complete. */
async function send(socket: Socket, data: string | Buffer, port: number, host = '127.0.0.1') {
  await new Promise<void>((resolve, reject) => {
    socket.send(data, port, host, (err) => {
      if (err === null) resolve();
      else reject(err);
    });
  });
}

/** Echoes each datagram to where it came from. */
class Echo extends DatagramProtocol {
  override datagramReceived(data: Buffer, address: INETAddress): void {
    this.transport.write(data, address);
  }
}

describe('NodeReactor UDP (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;
  let peers: Socket[];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
    peers = [];
  });

  afterEach(async () => {
    logs.stop();
    for (const p of peers) p.close();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  async function peer(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
    const socket = await peerSocket(type);
    peers.push(socket);
    return socket;
  }

  it('binds port 0, reports the port as a UDP address, and calls makeConnection then startProtocol', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    expect(port.getHost().port).to.equal(0);
    expect(await port.whenListening()).to.equal(port);
    const host = port.getHost();
    expect(host).to.be.instanceOf(IPv4Address);
    expect(host.type).to.equal('UDP');
    expect(host.host).to.equal('127.0.0.1');
    expect(host.port).to.be.above(0);
    await protocol.started;
    expect(protocol.transport).to.equal(port.transport);
    expect((port as { toString(): string }).toString()).to.match(
      /^UDPPort\(127\.0\.0\.1:\d+, RecordingDatagramProtocol\)$/,
    );
  });

  it('receives datagrams with the sender address and answers to it', async () => {
    const port = reactor.listenUDP(0, new Echo(), { interface: '127.0.0.1' });
    await port.whenListening();
    const client = await peer();
    const reply = nextMessage(client);
    await send(client, 'hello', port.getHost().port);
    const { data, port: from } = await reply;
    expect(data.toString()).to.equal('hello');
    expect(from).to.equal(port.getHost().port);
  });

  it('keeps datagram boundaries, and delivers a Uint8Array and a string as sent', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    const client = await peer();
    await send(client, 'one', port.getHost().port);
    await send(client, Buffer.from('two'), port.getHost().port);
    await send(client, Buffer.alloc(0), port.getHost().port);
    const got = await protocol.waitForDatagrams(3);
    expect(protocol.texts()).to.deep.equal(['one', 'two', '']);
    expect(got[0]?.address.port).to.equal(client.address().port);
    expect(got[0]?.address.type).to.equal('UDP');
    const reply = nextMessage(client);
    protocol.transport.write(new Uint8Array([1, 2, 3]), {
      host: '127.0.0.1',
      port: client.address().port,
    });
    expect([...(await reply).data]).to.deep.equal([1, 2, 3]);
  });

  it('truncates a datagram longer than maxPacketSize to that size', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1', maxPacketSize: 4 });
    await protocol.started;
    const client = await peer();
    await send(client, 'abcdefgh', port.getHost().port);
    await protocol.waitForDatagrams(1);
    expect(protocol.texts()).to.deep.equal(['abcd']);
  });

  it('an exception in datagramReceived is logged with its stack and costs only that datagram', async () => {
    class Fragile extends RecordingDatagramProtocol {
      override datagramReceived(data: Buffer, address: INETAddress): void {
        super.datagramReceived(data, address);
        if (data.toString() === 'boom') throw new Error('boom in datagramReceived');
      }
    }
    const protocol = new Fragile();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    const client = await peer();
    await send(client, 'boom', port.getHost().port);
    await send(client, 'after', port.getHost().port);
    await protocol.waitForDatagrams(2);
    expect(protocol.texts()).to.deep.equal(['boom', 'after']);
    const logged = logs.events.filter((e) => e.message === 'Unhandled error in datagramReceived');
    expect(logged).to.have.length(1);
    const failure = logged[0]?.fields.failure as { getTraceback(): string };
    expect(failure.getTraceback()).to.include('boom in datagramReceived');
  });

  it('refuses an oversize datagram with MessageLengthError and keeps working', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    const client = await peer();
    const to = { host: '127.0.0.1', port: client.address().port };
    let thrown: unknown;
    try {
      protocol.transport.write(Buffer.alloc(65_508), to);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(MessageLengthError);
    expect((thrown as MessageLengthError).code).to.equal('TORSION_ERR_MESSAGE_LENGTH');
    expect((thrown as MessageLengthError).maxLength).to.equal(65_507);
    const reply = nextMessage(client);
    protocol.transport.write(Buffer.alloc(65_507, 1), to);
    expect((await reply).data.length).to.equal(65_507);
    void port;
  });

  it('refuses bad destinations with InvalidAddressError', async () => {
    const protocol = new RecordingDatagramProtocol();
    reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    const t = protocol.transport;
    expect(() => {
      t.write('x');
    }).to.throw(InvalidAddressError, /needs an address/);
    expect(() => {
      t.write('x', { host: 'localhost', port: 9 });
    }).to.throw(InvalidAddressError, /not a host name/);
    expect(() => {
      t.write('x', { host: '::1', port: 9 });
    }).to.throw(InvalidAddressError, /IPv4 port cannot send to an IPv6/);
    expect(() => {
      t.write('x', { host: '127.0.0.1', port: 0 });
    }).to.throw(RangeError, /port/);
    expect(() => {
      t.write(42 as never, { host: '127.0.0.1', port: 9 });
    }).to.throw(TypeError, /number/);
    expect(() => {
      t.connect('example.invalid', 9);
    }).to.throw(InvalidAddressError);
  });

  it('connected UDP: write without an address, only the peer is heard, connectionRefused when its port is closed', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    const server = await peer();
    const other = await peer();
    const t = protocol.transport;
    t.connect('127.0.0.1', server.address().port);
    expect(() => {
      t.connect('127.0.0.1', server.address().port);
    }).to.throw(UDPAlreadyConnectedError);
    expect(() => {
      t.write('x', { host: '127.0.0.1', port: other.address().port });
    }).to.throw(InvalidAddressError, /connected to/);
    const got = nextMessage(server);
    t.write('hi');
    expect((await got).data.toString()).to.equal('hi');
    await send(other, 'not from the peer', port.getHost().port);
    await send(server, 'from the peer', port.getHost().port);
    await protocol.waitForDatagrams(1);
    expect(protocol.texts()).to.deep.equal(['from the peer']);
    // Close the peer: the next datagram draws an ICMP port unreachable.
    const closedPort = server.address().port;
    peers.splice(peers.indexOf(server), 1);
    server.close();
    void closedPort;
    t.write('anyone?');
    const timer = setInterval(() => {
      t.write('anyone?');
    }, 20);
    try {
      await protocol.refused;
    } finally {
      clearInterval(timer);
    }
    expect(protocol.events).to.include('connectionRefused');
  });

  it('stopListening calls stopProtocol before it fires; writing afterwards throws UDPNotListeningError', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    await port.stopListening();
    expect(protocol.events).to.deep.equal(['startProtocol', 'stopProtocol']);
    expect(() => {
      protocol.transport.write('late', { host: '127.0.0.1', port: 9 });
    }).to.throw(UDPNotListeningError);
  });

  it('writing before the bind completed throws UDPNotListeningError', () => {
    const port = reactor.listenUDP(0, new RecordingDatagramProtocol(), { interface: '127.0.0.1' });
    expect(() => {
      port.transport.write('early', { host: '127.0.0.1', port: 9 });
    }).to.throw(UDPNotListeningError, /not listening/);
  });

  it('stopping the reactor stops the protocol', async () => {
    const protocol = new RecordingDatagramProtocol();
    reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    reactor.stop();
    await done;
    expect(protocol.events).to.deep.equal(['startProtocol', 'stopProtocol']);
    expect(() => reactor.listenUDP(0, new RecordingDatagramProtocol())).to.throw(
      ReactorNotRestartable,
    );
  });

  it('fails whenListening with CannotListenError for a port in use, and never starts the protocol', async () => {
    const taken = await peer();
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(taken.address().port, protocol, { interface: '127.0.0.1' });
    let failure: unknown;
    try {
      await port.whenListening();
    } catch (err) {
      failure = err;
    }
    expect(failure).to.be.instanceOf(CannotListenError);
    expect(protocol.events).to.deep.equal([]);
  });

  it('listenMultiple lets two ports share one port number', async () => {
    const a = reactor.listenUDP(0, new RecordingDatagramProtocol(), {
      interface: '127.0.0.1',
      listenMultiple: true,
    });
    await a.whenListening();
    const b = reactor.listenUDP(a.getHost().port, new RecordingDatagramProtocol(), {
      interface: '127.0.0.1',
      listenMultiple: true,
    });
    expect((await b.whenListening()).getHost().port).to.equal(a.getHost().port);
  });

  it('checks its arguments at once', () => {
    const p = new RecordingDatagramProtocol();
    expect(() => reactor.listenUDP(-1, p)).to.throw(RangeError, /port/);
    expect(() => reactor.listenUDP(0, {} as never)).to.throw(TypeError, /datagram protocol/);
    expect(() => reactor.listenUDP(0, p, { interface: 'localhost' })).to.throw(
      InvalidAddressError,
      /address literal/,
    );
    expect(() => reactor.listenUDP(0, p, { maxPacketSize: 0 })).to.throw(
      RangeError,
      /maxPacketSize/,
    );
    expect(() => reactor.listenUDP(0, p, { listenMultiple: 'yes' as never })).to.throw(
      TypeError,
      /listenMultiple/,
    );
  });

  it('IPv6: an IPv6 interface makes an IPv6 port; addresses are IPv6Address', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol, { interface: '::1' });
    await protocol.started;
    expect(port.getHost()).to.be.instanceOf(IPv6Address);
    const client = await peer('udp6');
    await send(client, 'v6', port.getHost().port, '::1');
    const [got] = await protocol.waitForDatagrams(1);
    expect(got?.address).to.be.instanceOf(IPv6Address);
    expect(got?.address.host).to.equal('::1');
    const reply = nextMessage(client);
    protocol.transport.write('back', got?.address);
    expect((await reply).data.toString()).to.equal('back');
    expect(() => {
      protocol.transport.write('x', { host: '127.0.0.1', port: 9 });
    }).to.throw(InvalidAddressError, /IPv6 port cannot send to an IPv4/);
  });

  it('broadcast and multicast settings read back; a bad group fails the Deferred', async () => {
    const protocol = new RecordingDatagramProtocol();
    reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    const t = protocol.transport;
    expect(t.getBroadcastAllowed()).to.equal(false);
    t.setBroadcastAllowed(true);
    expect(t.getBroadcastAllowed()).to.equal(true);
    expect(t.getTTL()).to.equal(1);
    t.setTTL(4);
    expect(t.getTTL()).to.equal(4);
    expect(() => {
      t.setTTL(256);
    }).to.throw(RangeError, /ttl/);
    expect(t.getLoopbackMode()).to.equal(true);
    t.setLoopbackMode(false);
    expect(t.getLoopbackMode()).to.equal(false);
    let failed = false;
    await t.joinGroup('not-an-address').then(
      () => undefined,
      () => {
        failed = true;
      },
    );
    expect(failed).to.equal(true);
  });

  it('a broadcast without setBroadcastAllowed(true) is refused by the system and logged, not thrown', async () => {
    const protocol = new RecordingDatagramProtocol();
    reactor.listenUDP(0, protocol, { interface: '127.0.0.1' });
    await protocol.started;
    // Refused by the kernel (EACCES): nothing leaves this host.
    protocol.transport.write('everyone?', { host: '255.255.255.255', port: 9 });
    for (let i = 0; i < 100 && logs.events.every((e) => e.level !== 'warn'); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const warned = logs.events.filter((e) => e.level === 'warn');
    expect(warned.map((e) => e.message)).to.deep.equal(['A datagram could not be sent']);
    expect(
      String(warned[0]?.fields.failure && (warned[0].fields.failure as { value: unknown }).value),
    ).to.include('EACCES');
  });

  it('multicast on loopback: a member hears a datagram sent to the group', async function () {
    const group = '239.255.77.77';
    const member = new RecordingDatagramProtocol();
    // Bound to the group address, so nothing but the group reaches it (loopback-only tests).
    const port = reactor.listenUDP(0, member, { interface: group, listenMultiple: true });
    await member.started;
    try {
      await member.transport.joinGroup(group, '127.0.0.1');
    } catch (err) {
      this.skip(); // no multicast on this machine's loopback (a container without it)
      void err;
    }
    const sender = new RecordingDatagramProtocol();
    reactor.listenUDP(0, sender, { interface: '127.0.0.1' });
    await sender.started;
    await sender.transport.setOutgoingInterface('127.0.0.1');
    sender.transport.setLoopbackMode(true);
    const timer = setInterval(() => {
      sender.transport.write('to the group', { host: group, port: port.getHost().port });
    }, 20);
    try {
      await member.waitForDatagrams(1);
    } finally {
      clearInterval(timer);
    }
    expect(member.texts()[0]).to.equal('to the group');
    await member.transport.leaveGroup(group, '127.0.0.1');
  });
});
