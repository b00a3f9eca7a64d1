/**
 * `LineEcho` and `LineEchoFactory`: echo whole lines back, asynchat's classic
 * example, on `@torsion/line`'s LineReceiver.
 *
 * Tests: test/line-echo.test.ts
 * @module
 */
import { ServerFactory } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

/**
 * Sends each complete line back, with the delimiter (CRLF by default). Bytes
 * after the last delimiter are never echoed: they are not a line yet.
 *
 * @remarks
 * Lines longer than `MAX_LENGTH` (16384 bytes) drop the connection, as any
 * LineReceiver does. Backpressure is the TCP transport's default: reading
 * pauses while the output is above its high-water mark. When the peer sends
 * FIN, the lines already echoed are flushed and the connection closes.
 */
export class LineEcho extends LineReceiver {
  /** Echoes `line` with the delimiter. */
  override lineReceived(line: Buffer): void {
    this.sendLine(line);
  }
}

/** Serves {@link LineEcho}: `reactor.listenTCP(7, new LineEchoFactory())`. */
export class LineEchoFactory extends ServerFactory {
  constructor() {
    super();
    this.protocol = LineEcho;
  }
}
