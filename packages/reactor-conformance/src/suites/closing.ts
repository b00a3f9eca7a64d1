/**
 * Closing a connection: `loseConnection` (clean, flushed), `abortConnection`
 * (reset), writes after the close, and `connectionLost` exactly once.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { ConnectionAborted, ConnectionClosed, ConnectionDone, ConnectionLost } from '@torsion/core';
import type { Failure } from '@torsion/core';
import { Harness, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { PatternChecker, PatternSource } from '../internal/pattern.js';
import { RecordingProtocol } from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Registers the connection-closing tests. */
export function closingTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  describe('closing connections', () => {
    test('loseConnection on one end closes both ends with ConnectionDone, and clientConnectionLost hears it', async (h) => {
      const connectedInLost: boolean[] = [];
      class Watcher extends RecordingProtocol {
        override connectionLost(reason: Failure): void {
          connectedInLost.push(this.connected);
          super.connectionLost(reason);
        }
      }
      const { server, client, clientFactory } = await h.pair(
        () => new Watcher(),
        () => new Watcher(),
      );
      server.transport.loseConnection();
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await clientFactory.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(connectedInLost).to.deep.equal([false, false]);
      expect(server.events).to.deep.equal(['connectionMade', 'connectionLost']);
    });

    test('loseConnection flushes everything written before it: 1 MiB then the close', async (h) => {
      const total = 1024 * 1024;
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      server.transport.write(new PatternSource().next(total));
      server.transport.loseConnection();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.byteCount).to.equal(total);
      expect(checker.mismatchAt).to.equal(null);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    });

    test('writes after loseConnection and after the close are ignored without an error', async (h) => {
      class LateWriter extends RecordingProtocol {
        override connectionLost(reason: Failure): void {
          this.transport.write('C');
          this.transport.loseConnection();
          super.connectionLost(reason);
        }
      }
      const { server, client } = await h.pair(
        () => new LateWriter(),
        () => new RecordingProtocol(),
      );
      server.transport.write('A');
      server.transport.loseConnection();
      server.transport.write('B');
      await client.lost;
      await server.lost;
      server.transport.write('D');
      server.transport.writeSequence(['E']);
      server.transport.loseConnection();
      await h.wait(0.02);
      // 'B' was written in the same turn as loseConnection: sending it is allowed, not required.
      expect(['A', 'AB']).to.include(client.text());
      expect(server.lostCount).to.equal(1);
    });

    test('writes after loseConnection are sent while earlier output is still flushing: 8 MiB, the close, then TAIL 50 ms later', async (h) => {
      // Twisted accepts writes until the connection has actually closed, which
      // a close with unsent output delays until it is flushed.
      const total = 8 * 1024 * 1024;
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const checker = new PatternChecker();
      const tail: Buffer[] = [];
      let patternBytes = 0;
      client.sink = {
        feed(data: Buffer): void {
          const inPattern = Math.min(data.length, total - patternBytes);
          if (inPattern > 0) checker.feed(data.subarray(0, inPattern));
          patternBytes += inPattern;
          if (inPattern < data.length) tail.push(data.subarray(inPattern));
        },
      };
      // A slow reader: the client holds its reads until after TAIL was written.
      client.transport.pauseProducing();
      server.transport.write(new PatternSource().next(total));
      server.transport.loseConnection();
      await h.wait(0.05);
      expect(server.lostCount, 'the connection closed before its output was flushed').to.equal(0);
      server.transport.write('TAIL');
      client.transport.resumeProducing();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(checker.mismatchAt).to.equal(null);
      expect(patternBytes).to.equal(total);
      expect(Buffer.concat(tail).toString()).to.equal('TAIL');
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    });

    test('writes after loseWriteConnection are sent while earlier output is still flushing, before the FIN', async (h) => {
      const total = 8 * 1024 * 1024;
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      let received = 0;
      let last = Buffer.alloc(0);
      client.sink = {
        feed(data: Buffer): void {
          received += data.length;
          last = Buffer.concat([last, data]).subarray(-8);
        },
      };
      client.transport.pauseProducing();
      server.transport.write(new PatternSource().next(total));
      server.transport.loseWriteConnection();
      await h.wait(0.05);
      server.transport.write('TAIL');
      client.transport.resumeProducing();
      await client.waitForBytes(total + 4);
      expect(received).to.equal(total + 4);
      expect(last.subarray(-4).toString()).to.equal('TAIL');
      server.transport.loseConnection();
      await client.lost;
      await server.lost;
    });

    test('abortConnection gives ConnectionAborted on the aborting end and one connectionLost on the peer', async (h) => {
      const { server, client, clientFactory } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      client.transport.abortConnection();
      expect(client.transport.disconnecting).to.equal(true);
      const local = await client.lost;
      expect(local.check(ConnectionAborted)).to.equal(ConnectionAborted);
      expect((await clientFactory.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      const remote = await server.lost;
      // A reset reaches the peer as ConnectionLost. Some kernels (gVisor) turn an
      // abort into a FIN, which the peer sees as ConnectionDone: both are closes.
      expect(remote.check(ConnectionClosed)).to.equal(ConnectionClosed);
      expect(remote.check(ConnectionAborted), 'the peer did not abort').to.equal(null);
      await h.wait(0.02);
      expect([client.lostCount, server.lostCount]).to.deep.equal([1, 1]);
    });

    test('abortConnection on a server connection gives it ConnectionAborted and the client ConnectionLost or a close', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      server.transport.abortConnection();
      expect((await server.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      const remote = await client.lost;
      expect(remote.check(ConnectionLost, ConnectionDone)).to.not.equal(null);
      await h.wait(0.02);
      expect([client.lostCount, server.lostCount]).to.deep.equal([1, 1]);
    });

    test('connectionLost runs exactly once even when the protocol closes again from inside it', async (h) => {
      class Reclosing extends RecordingProtocol {
        override connectionLost(reason: Failure): void {
          super.connectionLost(reason);
          this.transport.loseConnection();
          this.transport.abortConnection();
        }
      }
      const { server, client } = await h.pair(
        () => new Reclosing(),
        () => new Reclosing(),
      );
      client.transport.loseConnection();
      client.transport.loseConnection();
      client.transport.abortConnection();
      await client.lost;
      await server.lost;
      await h.wait(0.05);
      expect([client.lostCount, server.lostCount]).to.deep.equal([1, 1]);
    });
  });
}
