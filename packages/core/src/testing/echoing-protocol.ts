/**
 * `EchoingProtocol`: a recording protocol that writes back every chunk.
 *
 * Tests: test/testing/recording-protocol.test.ts
 * @module
 */
import { RecordingProtocol } from './recording-protocol.js';

/**
 * A {@link RecordingProtocol} that echoes: each chunk is recorded, then
 * written back on the same transport. The peer for tests of a client.
 */
export class EchoingProtocol extends RecordingProtocol {
  /** Records the chunk, then writes it back. */
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}
