/**
 * `UNIXTransport`: one connected UNIX-domain `net.Socket`. It is the TCP
 * transport's socket machinery (output coalescing, flow control, producers,
 * half-close, the close sequence, fault isolation) with `UNIXAddress`es: a
 * UNIX stream socket behaves like a TCP one in every way the stream contract
 * speaks of. The TCP options are only recorded (Node ignores Nagle and
 * keep-alive on a UNIX socket, which has neither).
 *
 * Tests: test/unix.integration.test.ts, and the UNIX section of the
 * conformance suite (@torsion/reactor-conformance) on the Node reactor
 * @module
 */
import type { UNIXAddress } from '../address.js';
import type { IUNIXTransport } from '../interfaces.js';
import { Logger } from '../log.js';
import { TCPTransport } from './tcp-transport.js';

const log = new Logger('torsion.unix');

/** A UNIX-domain stream connection; user code sees it as `IUNIXTransport`. */
export class UNIXTransport extends TCPTransport<UNIXAddress> implements IUNIXTransport {
  protected override get log(): Logger {
    return log;
  }

  /**
   * A UNIX socket has no reset: Node refuses `resetAndDestroy()` on it. The
   * socket is closed at once instead, dropping unsent output; the peer reads
   * an end of stream (or ECONNRESET if it had data unread here), so it sees
   * ConnectionDone or ConnectionLost where a TCP peer would see a reset.
   */
  protected override resetSocket(): void {
    this.socket.destroy();
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `UNIXTransport(${this.protocolName()}, ${this.getHost().toString()})`;
  }
}
