/**
 * Example: a line protocol with a binary part. Commands are CRLF lines;
 * `PUT <n>` switches to raw mode for exactly n bytes, then back to lines.
 * Shows `sendLine`, `setRawMode`, and `setLineMode(extra)` handing back the
 * bytes that follow the upload.
 *
 * Tested by test/examples.test.ts.
 */
import { createHash } from 'node:crypto';
import { Factory } from '@torsion/core';
import { LineReceiver } from '@torsion/line';

/** `ECHO <text>` → `<TEXT>`; `PUT <n>` + n raw bytes → `OK <sha256>`; `QUIT` closes. */
export class UploadServer extends LineReceiver {
  #remaining = 0;
  #parts: Buffer[] = [];

  override lineReceived(line: Buffer): void {
    const [command = '', argument = ''] = line.toString('utf8').split(' ', 2);
    if (command === 'ECHO') {
      this.sendLine(argument.toUpperCase());
    } else if (command === 'PUT' && /^\d+$/.test(argument)) {
      this.#remaining = Number(argument);
      this.#parts = [];
      this.setRawMode();
    } else if (command === 'QUIT') {
      this.sendLine('BYE');
      this.transport.loseConnection();
    } else {
      this.sendLine('ERR unknown command');
    }
  }

  override rawDataReceived(data: Buffer): void {
    const mine = data.subarray(0, this.#remaining);
    this.#parts.push(mine);
    this.#remaining -= mine.length;
    if (this.#remaining === 0) {
      const digest = createHash('sha256').update(Buffer.concat(this.#parts)).digest('hex');
      this.sendLine(`OK ${digest}`);
      // Whatever followed the upload in the same read is line data again.
      this.setLineMode(data.subarray(mine.length));
    }
  }
}

/** The factory to listen with: `reactor.listenTCP(0, uploadFactory())`. */
export function uploadFactory(): Factory {
  return Factory.forProtocol(UploadServer);
}
