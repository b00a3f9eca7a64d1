/**
 * `HalfCloseRecordingProtocol`: a recording protocol that is told about each
 * direction's close separately.
 *
 * Tests: test/testing/recording-protocol.test.ts
 * @module
 */
import type { IHalfCloseableProtocol } from '../interfaces.js';
import { Eventual } from './eventual.js';
import { RecordingProtocol } from './recording-protocol.js';

/**
 * A {@link RecordingProtocol} that implements `IHalfCloseableProtocol`, so
 * the transport reports the peer's FIN (`readConnectionLost`) and its own
 * (`writeConnectionLost`) instead of closing the whole connection. Both are
 * recorded in {@link RecordingProtocol.events}.
 */
export class HalfCloseRecordingProtocol
  extends RecordingProtocol
  implements IHalfCloseableProtocol
{
  /** Settled when the peer will send no more (its FIN arrived). */
  readonly readLost = new Eventual<void>();
  /** Settled when this side's FIN was sent, or writing failed. */
  readonly writeLost = new Eventual<void>();

  /** Records the call and settles {@link HalfCloseRecordingProtocol.readLost}. */
  readConnectionLost(): void {
    this.events.push('readConnectionLost');
    this.readLost.callback();
  }

  /** Records the call and settles {@link HalfCloseRecordingProtocol.writeLost}. */
  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
    this.writeLost.callback();
  }
}
