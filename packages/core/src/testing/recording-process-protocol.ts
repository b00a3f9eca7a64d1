/**
 * `RecordingProcessProtocol`: a process protocol that records what happens to
 * it — the bytes per descriptor and every callback in order — so a test can
 * wait for the end (`await protocol.ended`) and assert on the history.
 *
 * Tests: test/process/node-process.integration.test.ts,
 * test/process/simulated-process.test.ts
 * @module
 */
import type { Failure } from '../failure.js';
import type { IProcessTransport } from '../interfaces.js';
import { ProcessProtocol } from '../process/process-protocol.js';
import { Eventual } from './eventual.js';

/**
 * Records every callback (`'connectionMade'`, `'childConnectionLost 1'`,
 * `'processExited'`, `'processEnded'`…) and keeps what the child wrote, per
 * descriptor. {@link RecordingProcessProtocol.exited} and
 * {@link RecordingProcessProtocol.ended} settle with the reasons.
 *
 * @remarks Subclass it and call `super` in each override to keep the record
 * complete. Set {@link RecordingProcessProtocol.keep} to false for transfers
 * too big to hold: the bytes are then only counted.
 */
export class RecordingProcessProtocol extends ProcessProtocol {
  /** Callback names in the order they ran; descriptor callbacks carry the descriptor. */
  readonly events: string[] = [];
  /** What the child wrote, per descriptor (only while {@link RecordingProcessProtocol.keep}). */
  readonly received = new Map<number, Buffer[]>();
  /** Bytes the child wrote, per descriptor (always counted). */
  readonly byteCounts = new Map<number, number>();
  /** Settles with the reason `processExited` got. */
  readonly exited = new Eventual<Failure>();
  /** Settles with the reason `processEnded` got. */
  readonly ended = new Eventual<Failure>();
  /** The reason `processEnded` got; null until then. */
  reason: Failure | null = null;
  /** How many times `processEnded` ran (a reactor must call it exactly once). */
  endedCount = 0;
  /** Whether to keep the bytes (else only count them). */
  keep = true;

  override connectionMade(): void {
    this.events.push('connectionMade');
  }

  override childDataReceived(childFD: number, data: Buffer): void {
    this.byteCounts.set(childFD, (this.byteCounts.get(childFD) ?? 0) + data.length);
    if (this.keep) {
      let chunks = this.received.get(childFD);
      if (chunks === undefined) this.received.set(childFD, (chunks = []));
      chunks.push(data);
    }
    super.childDataReceived(childFD, data);
  }

  override childConnectionLost(childFD: number): void {
    this.events.push(`childConnectionLost ${String(childFD)}`);
    super.childConnectionLost(childFD);
  }

  override processExited(reason: Failure): void {
    this.events.push('processExited');
    this.exited.callback(reason);
  }

  override processEnded(reason: Failure): void {
    this.events.push('processEnded');
    this.endedCount++;
    if (this.endedCount === 1) {
      this.reason = reason;
      this.ended.callback(reason);
    }
  }

  /** What the child wrote to `childFD` (default stdout), as one buffer. */
  output(childFD = 1): Buffer {
    return Buffer.concat(this.received.get(childFD) ?? []);
  }

  /** What the child wrote to `childFD` (default stdout), as UTF-8 text. */
  text(childFD = 1): string {
    return this.output(childFD).toString('utf8');
  }

  /** The transport, typed for tests. */
  get process(): IProcessTransport {
    return this.transport;
  }
}
