// 256 MiB through a real `cat` child on NodeReactor, with backpressure both
// ways: a streaming producer feeds the child's stdin (paused by the pipe's
// high-water mark), and the protocol pauses reading the child's stdout for a
// while, which must stall cat, fill stdin and pause the producer in turn.
// The parent's memory must stay bounded: RSS may grow by at most 96 MiB
// (the transfer is 256 MiB, so buffering it would show). Bounded in time
// (about 2-4 s here; mocha's timeout is 60 s).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { NodeReactor } from '../../src/node-reactor.js';
import type { IPushProducer } from '../../src/interfaces.js';
import { ProcessDone } from '../../src/process/process-errors.js';
import { RecordingProcessProtocol } from '../../src/testing/recording-process-protocol.js';

const TOTAL = 256 * 1024 * 1024;
const CHUNK = 64 * 1024;
const RSS_GROWTH_LIMIT = 96 * 1024 * 1024;

describe('cat round trip (real process, backpressure)', function () {
  this.timeout(60_000);

  it('256 MiB through cat arrive intact, the producer is paused, and RSS grows by less than 96 MiB', async () => {
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const sentHash = createHash('sha256');
    const receivedHash = createHash('sha256');
    // One buffer reused with a changing first word, so the producer allocates nothing per chunk.
    const chunk = Buffer.alloc(CHUNK, 'torsion ');
    let sent = 0;
    let pauses = 0;
    let peakRss = 0;
    const rssBefore = process.memoryUsage().rss;

    class Feeder extends RecordingProcessProtocol implements IPushProducer {
      paused = false;
      stalledOnce = false;

      override connectionMade(): void {
        super.connectionMade();
        this.keep = false;
        this.transport.registerProducer(this, true);
        this.resumeProducing();
      }

      pauseProducing(): void {
        this.paused = true;
        pauses++;
      }

      resumeProducing(): void {
        this.paused = false;
        // Write until the pipe's buffer says stop, or everything is sent.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- write() may call pauseProducing()
        while (!this.paused && sent < TOTAL) {
          chunk.writeUInt32BE(sent / CHUNK, 0);
          // The transport may keep the buffer: hand it a copy.
          const data = Buffer.from(chunk);
          sentHash.update(data);
          sent += data.length;
          this.transport.write(data);
        }
        if (sent >= TOTAL) {
          this.transport.unregisterProducer();
          this.transport.closeStdin();
        }
      }

      stopProducing(): void {
        this.paused = true;
      }

      override childDataReceived(childFD: number, data: Buffer): void {
        super.childDataReceived(childFD, data);
        receivedHash.update(data);
        const received = this.byteCounts.get(1) ?? 0;
        if (!this.stalledOnce && received > TOTAL / 2) {
          // Stop reading for a while: cat blocks, stdin fills, the producer pauses.
          this.stalledOnce = true;
          this.transport.pauseProducing();
          setTimeout(() => {
            this.transport.resumeProducing();
          }, 200);
        }
        if ((received & 0xffffff) < data.length) {
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }
      }
    }

    const proto = new Feeder();
    const started = Date.now();
    reactor.spawnProcess(proto, 'cat');
    const reason = await proto.ended;
    const seconds = (Date.now() - started) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(proto.byteCounts.get(1)).to.equal(TOTAL);
    expect(receivedHash.digest('hex')).to.equal(sentHash.digest('hex'));
    expect(pauses).to.be.greaterThan(0);
    expect(peakRss - rssBefore).to.be.lessThan(RSS_GROWTH_LIMIT);
    // For the record (not asserted: the machine is shared).
    console.log(
      `      256 MiB through cat in ${seconds.toFixed(2)} s, ${String(pauses)} producer pauses, RSS +${((peakRss - rssBefore) / 1048576).toFixed(1)} MiB`,
    );
  });
});
