/**
 * The TCP transport of an open connection: bytes both ways, addresses,
 * argument checks, pausing reads, and socket options.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { Harness, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { PatternChecker, PatternSource } from '../internal/pattern.js';
import { EchoingProtocol, RecordingProtocol } from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';
import { expectLoopback } from './listening.js';

/** Registers the transport tests. */
export function transportTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  describe('TCP transport', () => {
    test('carries bytes both ways: strings as UTF-8, Uint8Arrays and Buffers, in order', async (h) => {
      const { server, client } = await h.pair(
        () => new EchoingProtocol(),
        () => new RecordingProtocol(),
      );
      client.transport.write('héllo, ');
      client.transport.write(new Uint8Array([0x77, 0x6f, 0x72, 0x6c, 0x64]));
      client.transport.write(Buffer.from('!'));
      const expected = Buffer.from('héllo, world!');
      await client.waitForBytes(expected.length);
      expect(client.received().equals(expected)).to.equal(true);
      expect(server.received().equals(expected)).to.equal(true);
    });

    test('writeSequence writes every item in order', async (h) => {
      const { client } = await h.pair(
        () => new EchoingProtocol(),
        () => new RecordingProtocol(),
      );
      client.transport.writeSequence(['a', Buffer.from('b'), new Uint8Array([0x63])]);
      client.transport.writeSequence(new Set(['d', 'e']));
      await client.waitForBytes(5);
      expect(client.text()).to.equal('abcde');
    });

    test('carries 4 MiB written at once intact to the peer', async (h) => {
      const total = 4 * 1024 * 1024;
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const checker = new PatternChecker();
      server.sink = checker;
      // One direction only: with no producer on either end, two peers that both
      // have more output queued than the path holds would stop reading each other.
      client.transport.write(new PatternSource().next(total));
      await server.waitForBytes(total);
      expect(checker.mismatchAt).to.equal(null);
      expect(server.byteCount).to.equal(total);
    });

    test('getHost and getPeer report IPv4 127.0.0.1 addresses that match across the two ends, also after the close', async (h) => {
      const { server, client, port } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const clientHost = client.transport.getHost();
      expectLoopback(clientHost);
      expectLoopback(client.transport.getPeer(), port);
      expectLoopback(server.transport.getHost(), port);
      expectLoopback(server.transport.getPeer(), clientHost.port);
      expect(server.transport.getPeer()).to.deep.equal(clientHost);
      expect(clientHost.port).to.not.equal(port);
      client.transport.loseConnection();
      await client.lost;
      await server.lost;
      expect(client.transport.getHost()).to.deep.equal(clientHost);
      expectLoopback(client.transport.getPeer(), port);
      expectLoopback(server.transport.getHost(), port);
    });

    test('write and writeSequence throw TypeError for anything but bytes or a string, and send nothing', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const wrong: [string, unknown][] = [
        ['a number', 42],
        ['null', null],
        ['undefined', undefined],
        ['an array-like object', { length: 1 }],
        ['an array of numbers', [1, 2]],
      ];
      for (const [what, bad] of wrong) {
        expect(() => {
          client.transport.write(bad as string);
        }, what).to.throw(TypeError);
      }
      expect(() => {
        client.transport.writeSequence(['ok', 7 as unknown as string]);
      }).to.throw(TypeError);
      client.transport.write('!');
      await server.waitForBytes(1);
      await h.wait(0.02);
      expect(server.text()).to.equal('!');
    });

    test('disconnecting is false while open and true once loseConnection() was called', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      expect(client.transport.disconnecting).to.equal(false);
      expect(server.transport.disconnecting).to.equal(false);
      client.transport.loseConnection();
      expect(client.transport.disconnecting).to.equal(true);
      await server.lost;
      expect(server.transport.disconnecting).to.equal(true);
    });

    test('pauseProducing() on a transport holds back dataReceived until resumeProducing()', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      server.transport.pauseProducing();
      client.transport.write('held back');
      await h.wait(0.05);
      expect(server.byteCount, 'delivered while paused').to.equal(0);
      server.transport.resumeProducing();
      await server.waitForBytes(9);
      expect(server.text()).to.equal('held back');
    });

    test(
      'setTcpNoDelay and setTcpKeepAlive are read back by getTcpNoDelay and getTcpKeepAlive',
      async (h) => {
        const { client, server } = await h.pair(
          () => new EchoingProtocol(),
          () => new RecordingProtocol(),
        );
        const t = client.transport;
        t.setTcpNoDelay(true);
        expect(t.getTcpNoDelay()).to.equal(true);
        t.setTcpNoDelay(false);
        expect(t.getTcpNoDelay()).to.equal(false);
        t.setTcpKeepAlive(true, 30);
        expect(t.getTcpKeepAlive()).to.equal(true);
        t.setTcpKeepAlive(false);
        expect(t.getTcpKeepAlive()).to.equal(false);
        server.transport.setTcpNoDelay(true);
        expect(server.transport.getTcpNoDelay()).to.equal(true);
        t.write('still works');
        await client.waitForBytes(11);
      },
      { needs: ['tcpOptions'] },
    );
  });
}
