/**
 * UDP: `listenUDP` with a datagram protocol: binding port 0, datagrams both
 * ways with the address each came from, connected UDP (only the peer is
 * heard, `connectionRefused()` when its port is closed), `stopListening()`
 * → `stopProtocol()`, an exception in `datagramReceived` costing only that
 * datagram, oversize datagrams and bad destinations refused with typed
 * errors, IPv6, multicast on loopback, and shared ports.
 *
 * Run only for a reactor that has `listenUDP` (`IReactorUDP`); for any other
 * the whole section is pending, with the reason.
 * @module
 */
import { describe, it } from 'mocha';
import { expect } from 'chai';
import {
  CannotListenError,
  DatagramProtocol,
  InvalidAddressError,
  MessageLengthError,
} from '@torsion/core';
import type { INETAddress, IReactor, IReactorUDP, IUDPPort } from '@torsion/core';
import { RecordingDatagramProtocol } from '@torsion/core/testing';
import { Harness, LOOPBACK, NotTestableHere, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import type { SuiteSettings } from '../internal/settings.js';
import { expectLoggedOnce } from './fault-isolation.js';

type UDPReactor = IReactor & IReactorUDP;

function hasUDP(reactor: IReactor): reactor is UDPReactor {
  return typeof (reactor as Partial<IReactorUDP>).listenUDP === 'function';
}

/** Why the section is pending for this reactor, or null when it runs (asked of one reactor, never run). */
function whyNoUDP(settings: SuiteSettings): string | null {
  let reactor: IReactor;
  try {
    reactor = settings.makeReactor();
  } catch {
    return null;
  }
  const has = hasUDP(reactor);
  try {
    void Promise.resolve(settings.destroyReactor?.(reactor)).catch(() => undefined);
  } catch {
    // Cleanup of a reactor that was never run: nothing to report.
  }
  return has ? null : 'IReactorUDP (it has no listenUDP)';
}

function udp(h: Harness): UDPReactor {
  return h.reactor as UDPReactor;
}

/** Answers each datagram to where it came from. */
class Echo extends DatagramProtocol {
  override datagramReceived(data: Buffer, address: INETAddress): void {
    this.transport.write(data, address);
  }
}

/** Binds `protocol` on loopback port 0 and waits until it started. */
async function bindOnLoopback(
  h: Harness,
  protocol: RecordingDatagramProtocol | Echo,
  iface = LOOPBACK,
): Promise<IUDPPort> {
  const port = udp(h).listenUDP(0, protocol, { interface: iface });
  await port.whenListening();
  return port;
}

/** The error `fn` throws (fails the test if it throws nothing). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

/** Registers the UDP tests. */
export function udpTests(settings: SuiteSettings): void {
  const noUDP = whyNoUDP(settings);
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    if (noUDP !== null) {
      if (settings.knownFailures.has(title)) settings.matchedKnownFailures.add(title);
      it.skip(`${title} [reactor lacks: ${noUDP}]`);
      return;
    }
    reactorTest(settings, title, { ...spec, needs: ['udp', ...(spec.needs ?? [])] }, body);
  };

  describe('UDP', () => {
    test('listenUDP binds port 0 to a port whenListening and getHost report, as a UDP address; makeConnection and startProtocol come once bound', async (h) => {
      const protocol = new RecordingDatagramProtocol();
      const port = udp(h).listenUDP(0, protocol, { interface: LOOPBACK });
      expect(await port.whenListening()).to.equal(port);
      const host = port.getHost();
      expect([host.family, host.type, host.host]).to.deep.equal(['IPv4', 'UDP', LOOPBACK]);
      expect(host.port).to.be.within(1, 65535);
      await protocol.started;
      expect(protocol.transport).to.equal(port.transport);
      expect(protocol.events).to.deep.equal(['startProtocol']);
    });

    test('datagrams travel both ways, whole, each with the address it came from', async (h) => {
      const echo = await bindOnLoopback(h, new Echo());
      const client = new RecordingDatagramProtocol();
      const clientPort = await bindOnLoopback(h, client);
      await client.started;
      client.transport.write('one', { host: LOOPBACK, port: echo.getHost().port });
      await client.waitForDatagrams(1);
      client.transport.write(Buffer.from('two'), echo.getHost());
      await client.waitForDatagrams(2);
      client.transport.write(new Uint8Array(0), echo.getHost());
      await client.waitForDatagrams(3);
      expect(client.texts()).to.deep.equal(['one', 'two', '']);
      for (const d of client.datagrams) {
        expect(d.address.type).to.equal('UDP');
        expect(d.address.host).to.equal(LOOPBACK);
        expect(d.address.port).to.equal(echo.getHost().port);
      }
      expect(clientPort.getHost().port).to.not.equal(echo.getHost().port);
    });

    test('connected UDP: write(data) goes to the peer, and only the peer is heard', async (h) => {
      const echo = await bindOnLoopback(h, new Echo());
      const stranger = new RecordingDatagramProtocol();
      await bindOnLoopback(h, stranger);
      const client = new RecordingDatagramProtocol();
      const clientPort = await bindOnLoopback(h, client);
      await client.started;
      await stranger.started;
      client.transport.connect(LOOPBACK, echo.getHost().port);
      stranger.transport.write('from a stranger', clientPort.getHost());
      client.transport.write('to the peer');
      await client.waitForDatagrams(1);
      await h.wait(0.05);
      expect(client.texts()).to.deep.equal(['to the peer']);
      expect(
        thrownBy(() => {
          client.transport.write('elsewhere', stranger.transport.getHost());
        }),
      ).to.be.instanceOf(InvalidAddressError);
    });

    test('connected UDP: datagrams to a closed port reach connectionRefused', async (h) => {
      const gone = new RecordingDatagramProtocol();
      const gonePort = await bindOnLoopback(h, gone);
      const number = gonePort.getHost().port;
      await gonePort.stopListening();
      const client = new RecordingDatagramProtocol();
      await bindOnLoopback(h, client);
      await client.started;
      client.transport.connect(LOOPBACK, number);
      await h.until(() => {
        if (!client.refused.called) client.transport.write('anyone?');
        return client.refused.called;
      }, 'connectionRefused');
      expect(client.events).to.include('connectionRefused');
    });

    test('stopListening calls stopProtocol before it fires; nothing is delivered afterwards', async (h) => {
      const protocol = new RecordingDatagramProtocol();
      const port = await bindOnLoopback(h, protocol);
      const sender = new RecordingDatagramProtocol();
      await bindOnLoopback(h, sender);
      await sender.started;
      const address = port.getHost();
      await port.stopListening();
      expect(protocol.events).to.deep.equal(['startProtocol', 'stopProtocol']);
      sender.transport.write('late', address);
      await h.wait(0.05);
      expect(protocol.datagrams).to.have.length(0);
    });

    test(
      'an exception in datagramReceived is logged with its stack and costs only that datagram',
      async (h) => {
        const error = new Error('datagramReceived failed');
        class Fragile extends RecordingDatagramProtocol {
          override datagramReceived(data: Buffer, address: INETAddress): void {
            super.datagramReceived(data, address);
            if (data.toString() === 'boom') throw error;
          }
        }
        const fragile = new Fragile();
        const port = await bindOnLoopback(h, fragile);
        const sender = new RecordingDatagramProtocol();
        await bindOnLoopback(h, sender);
        await sender.started;
        sender.transport.write('boom', port.getHost());
        await fragile.waitForDatagrams(1);
        sender.transport.write('after', port.getHost());
        await fragile.waitForDatagrams(2);
        expect(fragile.texts()).to.deep.equal(['boom', 'after']);
        expectLoggedOnce(h, error);
      },
      { logsErrors: true },
    );

    test('an oversize datagram is refused with MessageLengthError; the port keeps working', async (h) => {
      const echo = await bindOnLoopback(h, new Echo());
      const client = new RecordingDatagramProtocol();
      await bindOnLoopback(h, client);
      await client.started;
      const error = thrownBy(() => {
        client.transport.write(Buffer.alloc(65_508), echo.getHost());
      });
      expect(error).to.be.instanceOf(MessageLengthError);
      expect((error as MessageLengthError).code).to.equal('TORSION_ERR_MESSAGE_LENGTH');
      client.transport.write(Buffer.alloc(8000, 1), echo.getHost());
      const [reply] = await client.waitForDatagrams(1);
      expect(reply?.data.length).to.equal(8000);
    });

    test('bad destinations are refused with InvalidAddressError, naming them', async (h) => {
      const client = new RecordingDatagramProtocol();
      await bindOnLoopback(h, client);
      await client.started;
      const t = client.transport;
      expect(thrownBy(() => t.write('x'))).to.be.instanceOf(InvalidAddressError);
      const named = thrownBy(() => t.write('x', { host: 'localhost', port: 9 }));
      expect(named).to.be.instanceOf(InvalidAddressError);
      expect((named as InvalidAddressError).address).to.equal('localhost');
      expect(thrownBy(() => t.write('x', { host: '::1', port: 9 }))).to.be.instanceOf(
        InvalidAddressError,
      );
      expect(thrownBy(() => t.connect('localhost', 9))).to.be.instanceOf(InvalidAddressError);
    });

    test(
      'IPv6: an IPv6 interface makes an IPv6 port; datagrams come from IPv6 addresses',
      async (h) => {
        const echo = await bindOnLoopback(h, new Echo(), '::1');
        expect(echo.getHost().family).to.equal('IPv6');
        const client = new RecordingDatagramProtocol();
        await bindOnLoopback(h, client, '::1');
        await client.started;
        client.transport.write('v6', { host: '::1', port: echo.getHost().port });
        const [reply] = await client.waitForDatagrams(1);
        expect(reply?.address.family).to.equal('IPv6');
        expect(reply?.address.host).to.equal('::1');
      },
      { needs: ['udpIPv6'] },
    );

    test(
      'multicast: a member joined on loopback hears a datagram sent to its group',
      async (h) => {
        const group = '239.255.42.99';
        const member = new RecordingDatagramProtocol();
        // Bound to the group's address (Linux delivers it only that group's datagrams),
        // not to every interface: the tests listen on loopback only.
        const memberPort = udp(h).listenUDP(0, member, { interface: group });
        await memberPort.whenListening();
        await member.started;
        try {
          await member.transport.joinGroup(group, LOOPBACK);
        } catch (err) {
          // A machine (a container) whose loopback has no multicast: pending, with the reason.
          throw new NotTestableHere(`joinGroup failed: ${String(err)}`);
        }
        const sender = new RecordingDatagramProtocol();
        await bindOnLoopback(h, sender);
        await sender.started;
        await sender.transport.setOutgoingInterface(LOOPBACK);
        await h.until(() => {
          if (member.datagrams.length === 0) {
            sender.transport.write('to the group', {
              host: group,
              port: memberPort.getHost().port,
            });
          }
          return member.datagrams.length > 0;
        }, 'a datagram to the group');
        expect(member.texts()[0]).to.equal('to the group');
        await member.transport.leaveGroup(group, LOOPBACK);
      },
      { needs: ['udpMulticast'] },
    );

    test(
      'a UDP port in use fails whenListening with CannotListenError; its protocol never starts',
      async (h) => {
        const first = await bindOnLoopback(h, new RecordingDatagramProtocol());
        const protocol = new RecordingDatagramProtocol();
        const second = udp(h).listenUDP(first.getHost().port, protocol, { interface: LOOPBACK });
        let failure: unknown;
        try {
          await second.whenListening();
        } catch (err) {
          failure = err;
        }
        expect(failure).to.be.instanceOf(CannotListenError);
        expect(protocol.events).to.deep.equal([]);
      },
      { needs: ['portInUse'] },
    );

    test(
      'listenMultiple lets two ports share one port number',
      async (h) => {
        const a = udp(h).listenUDP(0, new RecordingDatagramProtocol(), {
          interface: LOOPBACK,
          listenMultiple: true,
        });
        await a.whenListening();
        const b = udp(h).listenUDP(a.getHost().port, new RecordingDatagramProtocol(), {
          interface: LOOPBACK,
          listenMultiple: true,
        });
        expect((await b.whenListening()).getHost().port).to.equal(a.getHost().port);
      },
      { needs: ['udpListenMultiple'] },
    );

    test(
      'listenUDP checks its arguments at once',
      (h) => {
        const p = new RecordingDatagramProtocol();
        expect(() => udp(h).listenUDP(-1, p)).to.throw(RangeError);
        expect(() => udp(h).listenUDP(0, {} as never)).to.throw(TypeError);
        expect(() => udp(h).listenUDP(0, p, { interface: 'localhost' })).to.throw(
          InvalidAddressError,
        );
        expect(() => udp(h).listenUDP(0, p, { maxPacketSize: 0 })).to.throw(RangeError);
      },
      { start: false },
    );
  });
}
