/**
 * Descriptor exhaustion: when the process has no file descriptor left, the
 * reactor keeps its timers on time and its open connections working, gives
 * every new client service or a closed connection (never leaves one
 * waiting), does not spin, and serves as before once descriptors are freed.
 *
 * The tests use up the descriptors themselves, in this process, by opening
 * the null device until EMFILE, and free them in `finally`. That needs a soft
 * limit they can reach within {@link MAX_HELD} opens (`ulimit -Sn 4096`, as
 * this repository's test runner sets); with a higher one the section is
 * pending. A reactor whose network needs no descriptors (an in-memory one)
 * runs the same tests and simply serves every client.
 * @module
 */
import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import { describe, before } from 'mocha';
import { expect } from 'chai';
import { deferLater, errorCode } from '@torsion/core';
import type { IReactor } from '@torsion/core';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import {
  EchoingProtocol,
  Eventual,
  RecordingClientFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/**
 * The most descriptors the tests open to reach the limit: twice the soft
 * limit the repository's runner sets, and far above common defaults (1024).
 */
const MAX_HELD = 8192;
/**
 * Reactor seconds within which every client must be served or closed. A
 * reactor may notice the shortage only by checking now and then (BunReactor
 * checks four times a second); this leaves ample room for that.
 */
const SETTLE_SECONDS = 5;
/** A spinning event loop uses a whole core; an idle one next to nothing. */
const MAX_IDLE_CPU = 0.5;

/** What became of one client. */
type Outcome = 'answered' | 'closed' | 'failed' | 'hung';

/** The null device opened until EMFILE or ENFILE; `null` if {@link MAX_HELD} opens did not get there. */
function holdEveryDescriptor(): number[] | null {
  const held: number[] = [];
  try {
    while (held.length < MAX_HELD) held.push(openSync(devNull, 'r'));
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EMFILE' || code === 'ENFILE') return held;
    releaseAll(held);
    throw err;
  }
  releaseAll(held);
  return null;
}

function releaseAll(held: number[]): void {
  for (const fd of held.splice(0)) closeSync(fd);
}

/**
 * Connects a client to `port` that sends a line and waits for the echo, and
 * resolves with what became of it within {@link SETTLE_SECONDS}. An answered
 * client is left open (holding its descriptors); `opened` collects it.
 */
async function attempt(h: Harness, port: number, opened: RecordingProtocol[]): Promise<Outcome> {
  const factory = new RecordingClientFactory(() => new RecordingProtocol());
  h.reactor.connectTCP(LOOPBACK, port, factory);
  const served = factory.firstBuilt.promise.then(async (client): Promise<Outcome> => {
    opened.push(client);
    await client.made;
    client.transport.write('ping\n');
    try {
      await client.waitForBytes(5);
      return 'answered';
    } catch {
      return 'closed';
    }
  });
  const failed = factory.failed.promise.then((): Outcome => 'failed');
  const timedOut = new Eventual<Outcome>();
  const timer = h.reactor.callLater(SETTLE_SECONDS, () => {
    timedOut.callback('hung');
  });
  const outcome = await Promise.race([served, failed, timedOut.promise]);
  if (timer.active()) timer.cancel();
  return outcome;
}

/** Connects until a client is answered, at most `tries` times, 0.1 s apart. */
async function servedAgain(h: Harness, port: number, tries: number): Promise<Outcome[]> {
  const seen: Outcome[] = [];
  const opened: RecordingProtocol[] = [];
  for (let i = 0; i < tries; i++) {
    const outcome = await attempt(h, port, opened);
    seen.push(outcome);
    if (outcome === 'answered') break;
    await h.wait(0.1);
  }
  for (const client of opened) client.transport.loseConnection();
  return seen;
}

/**
 * The process's CPU use, as a share of one core, over `seconds` of reactor
 * time; `null` when that took under a quarter of a second on the wall clock
 * (virtual time), too short to tell idling from spinning.
 */
async function cpuShareOver(reactor: IReactor, seconds: number): Promise<number | null> {
  const wallStart = performance.now();
  const before = process.cpuUsage();
  await deferLater(reactor, seconds);
  const used = process.cpuUsage(before);
  const wall = (performance.now() - wallStart) / 1000;
  if (wall < 0.25) return null;
  return (used.user + used.system) / 1e6 / wall;
}

function tally(outcomes: Outcome[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { answered: 0, closed: 0, failed: 0, hung: 0 };
  for (const outcome of outcomes) counts[outcome]++;
  return counts;
}

/** Registers the descriptor-exhaustion tests. */
export function resourceExhaustionTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  /**
   * Listens, connects one client, then holds every descriptor but `spare`
   * and connects `clients` more; checks that each is served or closed within
   * the bound, that a timer fires on time, that the process idles and the
   * first client is still echoed; then frees the descriptors and checks that
   * a new client is served.
   */
  const exhaust = async (h: Harness, spare: number, clients: number): Promise<void> => {
    const { client: early, port } = await h.pair(
      () => new EchoingProtocol(),
      () => new RecordingProtocol(),
    );
    const opened: RecordingProtocol[] = [];
    const held = holdEveryDescriptor();
    if (held === null) throw new Error(`no EMFILE within ${String(MAX_HELD)} opens`);
    try {
      releaseAll(held.splice(0, spare));
      const outcomes = await Promise.all(
        Array.from({ length: clients }, () => attempt(h, port, opened)),
      );
      const counts = tally(outcomes);
      expect(counts.hung, `clients left waiting: ${JSON.stringify(counts)}`).to.equal(0);

      const start = h.reactor.seconds();
      await h.wait(0.05);
      expect(h.reactor.seconds() - start, 'a 0.05 s timer, in seconds').to.be.below(0.5);
      const cpu = await cpuShareOver(h.reactor, 0.5);
      if (cpu !== null) expect(cpu, 'CPU share while out of descriptors').to.be.below(MAX_IDLE_CPU);

      const before = early.byteCount;
      early.transport.write('still here');
      await early.waitForBytes(before + 10);
      expect(early.received().subarray(before).toString()).to.equal('still here');
    } finally {
      releaseAll(held);
    }
    for (const client of opened) client.transport.loseConnection();
    // A reactor that stopped listening for want of descriptors may take a moment to listen again.
    expect(await servedAgain(h, port, 50)).to.include('answered');
  };

  describe('descriptor exhaustion', function () {
    before(function () {
      const held = holdEveryDescriptor();
      if (held === null) this.skip();
      else releaseAll(held);
    });

    test('clients that find every descriptor taken are closed or refused, never left waiting; the reactor idles and serves again once descriptors are freed', async (h) => {
      // Fewer descriptors than clients: the clients' own sockets take them
      // all, and the server has none left to accept with.
      await exhaust(h, 3, 6);
    });

    test('when accepted connections use up the last descriptors, the clients beyond them are closed at once and the others served', async (h) => {
      // Six client sockets, two descriptors left to accept with.
      await exhaust(h, 8, 6);
    });
  });
}
