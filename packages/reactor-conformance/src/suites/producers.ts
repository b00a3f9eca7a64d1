/**
 * Producers and consumers: streaming and pull producers registered on a TCP
 * transport are paused, resumed and asked for more as the peer reads or
 * stops reading; `loseConnection` waits for a producer; and the default
 * backpressure of a protocol with no producer at all.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { ConnectionDone } from '@torsion/core';
import type { IPushProducer } from '@torsion/core';
import { Harness, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { PatternChecker } from '../internal/pattern.js';
import {
  CHUNK,
  NEVER_PAUSED,
  NotReading,
  PullSender,
  Streamer,
  untilHeldBack,
} from '../internal/producers.js';
import { EchoingProtocol, RecordingProtocol } from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Registers the producer and backpressure tests. */
export function producerTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  describe('producers and backpressure', () => {
    test('pauses a streaming producer while the peer does not read and resumes it when the peer reads; every byte arrives in order', async (h) => {
      const { server, client } = await h.pair(
        () => new Streamer(h.reactor, NEVER_PAUSED, 'close'),
        () => new NotReading(),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      server.startStreaming();
      await untilHeldBack(
        h,
        server,
        () => server.written,
        () => server.paused,
      );
      expect(server.pauses).to.be.at.least(1);
      const resumes = server.resumes;

      client.transport.resumeProducing();
      while (server.resumes === resumes) await server.nextChange();
      server.finishSoon();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.byteCount).to.equal(server.written);
      expect(checker.mismatchAt).to.equal(null);
      expect(server.stops).to.equal(0);
    });

    test('a streaming producer on a transport whose peer reads is never stopped and delivers 4 MiB intact', async (h) => {
      const total = 4 * 1024 * 1024;
      const { server, client } = await h.pair(
        () => new EchoingProtocol(),
        () => new Streamer(h.reactor, total, 'unregister'),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      client.startStreaming();
      await client.whenFinished;
      await client.waitForBytes(total);
      expect(checker.mismatchAt).to.equal(null);
      expect(server.byteCount).to.equal(total);
      expect(client.stops).to.equal(0);
    });

    test('asks a pull producer for more each time the buffer drains until it unregisters; all data arrives in order', async (h) => {
      const chunks = 256;
      const { server, client } = await h.pair(
        () => new PullSender(h.reactor, chunks * CHUNK, 'close'),
        () => new RecordingProtocol(),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      server.startPulling();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.byteCount).to.equal(chunks * CHUNK);
      expect(checker.mismatchAt).to.equal(null);
      expect(server.asks).to.equal(chunks);
      expect(server.stops).to.equal(0);
    });

    test('stops asking a pull producer while the peer does not read, and asks again once it reads', async (h) => {
      const { server, client } = await h.pair(
        () => new PullSender(h.reactor, NEVER_PAUSED, 'close'),
        () => new NotReading(),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      server.startPulling();
      await untilHeldBack(
        h,
        server,
        () => server.asks,
        () => true,
      );
      const asks = server.asks;
      server.finishSoon(8 * CHUNK);
      client.transport.resumeProducing();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.asks).to.be.greaterThan(asks);
      expect(client.byteCount).to.equal(server.written);
      expect(checker.mismatchAt).to.equal(null);
    });

    test('registering a second producer throws; the producer gets stopProducing once when the connection is lost', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      let stops = 0;
      const producer: IPushProducer = {
        pauseProducing() {},
        resumeProducing() {},
        stopProducing() {
          stops++;
        },
      };
      server.transport.registerProducer(producer, true);
      expect(() => {
        server.transport.registerProducer(producer, true);
      }).to.throw(Error);
      expect(() => {
        server.transport.registerProducer({ resumeProducing() {}, stopProducing() {} }, false);
      }).to.throw(Error);
      client.transport.abortConnection();
      await server.lost;
      await h.wait(0.02);
      expect(stops).to.equal(1);
    });

    test('unregisterProducer allows registering another producer', async (h) => {
      const { server } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      const producer: IPushProducer = {
        pauseProducing() {},
        resumeProducing() {},
        stopProducing() {},
      };
      server.transport.registerProducer(producer, true);
      server.transport.unregisterProducer();
      server.transport.registerProducer(producer, true);
      server.transport.unregisterProducer();
    });

    test('loseConnection waits for a registered producer to unregister, then flushes and closes cleanly', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      server.transport.registerProducer(
        { pauseProducing() {}, resumeProducing() {}, stopProducing() {} },
        true,
      );
      server.transport.loseConnection();
      server.transport.write('still flowing');
      await client.waitForBytes(13);
      await h.wait(0.05);
      expect(client.lostCount, 'closed before the producer unregistered').to.equal(0);
      expect(server.lostCount).to.equal(0);
      server.transport.unregisterProducer();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.text()).to.equal('still flowing');
    });

    test('a transport registered as its own producer does not hold loseConnection open', async (h) => {
      const { server, client } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      server.transport.registerProducer(server.transport, true);
      server.transport.write('bye');
      server.transport.loseConnection();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.text()).to.equal('bye');
    });

    test("a protocol with no producer stops reading while its output backs up: an echo server pauses a non-reading client's producer", async (h) => {
      const { server, client } = await h.pair(
        () => new EchoingProtocol(),
        () => new Streamer(h.reactor, NEVER_PAUSED, 'unregister'),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      client.transport.pauseProducing();
      client.startStreaming();
      await untilHeldBack(
        h,
        client,
        () => client.written,
        () => client.paused,
      );
      expect(server.byteCount, 'the server kept reading everything').to.be.lessThan(client.written);

      // Stays registered until everything came back: with no producer and its
      // output above the mark, the client would stop reading too (see docs/conformance.md).
      client.holdAt();
      client.transport.resumeProducing();
      await client.waitForBytes(client.written);
      expect(client.byteCount).to.equal(client.written);
      expect(checker.mismatchAt).to.equal(null);
      client.finishSoon();
    });
  });
}
