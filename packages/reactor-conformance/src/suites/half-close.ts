/**
 * Half-close: the peer's FIN reaching a half-closeable protocol
 * (`readConnectionLost`, and it may still write) or a plain one (a clean
 * close after its output was flushed), and `loseWriteConnection()` sending
 * our FIN while we keep reading.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { ConnectionDone } from '@torsion/core';
import { Harness, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { PatternChecker, PatternSource } from '../internal/pattern.js';
import { HalfCloseRecordingProtocol, RecordingProtocol } from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Collects a request until the peer's FIN, then answers and closes. */
class Answerer extends HalfCloseRecordingProtocol {
  override readConnectionLost(): void {
    super.readConnectionLost();
    this.transport.write(`got ${String(this.byteCount)} bytes`);
    this.transport.loseConnection();
  }
}

/** Writes a little, half-closes at once, and keeps reading. */
class EarlyFin extends HalfCloseRecordingProtocol {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.write('bye-ish');
    this.transport.loseWriteConnection();
  }
}

/** Bytes {@link BigAnswer} writes. */
const BIG_ANSWER = 1024 * 1024;

/** Not half-closeable: answers the first bytes with 1 MiB, queued when the peer's FIN comes. */
class BigAnswer extends RecordingProtocol {
  override dataReceived(data: Buffer): void {
    const first = this.byteCount === 0;
    super.dataReceived(data);
    if (first) this.transport.write(new PatternSource().next(BIG_ANSWER));
  }
}

/** Registers the half-close tests. */
export function halfCloseTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, { needs: ['halfClose'], ...spec }, body);
  };

  describe('half-close', () => {
    test("calls readConnectionLost on the peer's loseWriteConnection(), and the protocol can still write back", async (h) => {
      const { server, client } = await h.pair(
        () => new Answerer(),
        () => new HalfCloseRecordingProtocol(),
      );
      client.transport.write('request body');
      client.transport.loseWriteConnection();
      await client.writeLost;
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.text()).to.equal('got 12 bytes');
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.events).to.deep.equal([
        'connectionMade',
        'readConnectionLost',
        'connectionLost',
      ]);
      expect(client.events[0]).to.equal('connectionMade');
      expect(client.events.at(-1)).to.equal('connectionLost');
      expect(client.events).to.include.members(['writeConnectionLost', 'readConnectionLost']);
    });

    test("a protocol that is not half-closeable closes cleanly on the peer's FIN after flushing everything it wrote", async (h) => {
      const checker = new PatternChecker();
      const { server, client } = await h.pair(
        () => new BigAnswer(),
        () => {
          const c = new HalfCloseRecordingProtocol();
          c.sink = checker;
          return c;
        },
      );
      client.transport.write('go');
      client.transport.loseWriteConnection();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.byteCount).to.equal(BIG_ANSWER);
      expect(checker.mismatchAt).to.equal(null);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.events).to.deep.equal(['connectionMade', 'connectionLost']);
    });

    test('loseWriteConnection sends FIN after queued data, keeps reading, and calls writeConnectionLost', async (h) => {
      const { server, client } = await h.pair(
        () => new EarlyFin(),
        () => new HalfCloseRecordingProtocol(),
      );
      await client.readLost;
      expect(client.text()).to.equal('bye-ish');
      await server.writeLost;
      expect(server.transport.disconnecting).to.equal(false);
      client.transport.write('still talking');
      await server.waitForBytes(13);
      expect(server.text()).to.equal('still talking');
      client.transport.loseConnection();
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.events).to.deep.equal([
        'connectionMade',
        'writeConnectionLost',
        'readConnectionLost',
        'connectionLost',
      ]);
    });

    test('ignores writes after loseWriteConnection without an error', async (h) => {
      const { server, client } = await h.pair(
        () => new EarlyFin(),
        () => new HalfCloseRecordingProtocol(),
      );
      await client.readLost;
      await server.writeLost;
      server.transport.write('too late');
      server.transport.writeSequence(['much ', 'too late']);
      client.transport.loseConnection();
      await server.lost;
      await client.lost;
      expect(client.text()).to.equal('bye-ish');
    });
  });
}
