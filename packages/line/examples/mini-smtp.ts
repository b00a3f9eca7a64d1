/**
 * Example: an SMTP-like command/response server with AsyncChat. Commands end
 * with CRLF; after `DATA` the terminator becomes `CRLF.CRLF`; `LIST` streams
 * every stored message through a producer, one chunk per transport drain.
 *
 * Tested by test/examples.test.ts.
 */
import { Factory } from '@torsion/core';
import { AsyncChat, type IChatProducer } from '@torsion/line';

/** Messages shared by every connection of one factory. */
export class MailFactory extends Factory {
  readonly messages: Buffer[] = [];
}

/** Yields each stored message as a numbered block, one message per `more()`. */
function listProducer(messages: readonly Buffer[]): IChatProducer {
  let next = 0;
  return {
    more(): Buffer {
      if (next > messages.length) return Buffer.alloc(0);
      if (next === messages.length) {
        next += 1;
        return Buffer.from('.\r\n');
      }
      const message = messages[next] ?? Buffer.alloc(0);
      const block = Buffer.concat([Buffer.from(`${next + 1} `), message, Buffer.from('\r\n')]);
      next += 1;
      return block;
    },
  };
}

/** `HELO`, `DATA` … `.`, `LIST`, `NOOP`, `QUIT`. */
export class MiniSmtp extends AsyncChat<MailFactory> {
  #inData = false;

  override connectionMade(): void {
    this.setTerminator('\r\n');
    this.push('220 mini-smtp ready\r\n');
  }

  override foundTerminator(): void {
    const frame = this.takeIncomingData();
    if (this.#inData) {
      this.#inData = false;
      this.factory?.messages.push(frame);
      this.setTerminator('\r\n');
      this.push('250 queued\r\n');
      return;
    }
    const command = frame.toString('latin1').toUpperCase();
    if (command.startsWith('HELO')) this.push('250 hello\r\n');
    else if (command === 'DATA') {
      this.#inData = true;
      this.setTerminator('\r\n.\r\n');
      this.push('354 end with <CRLF>.<CRLF>\r\n');
    } else if (command === 'LIST') {
      this.push('250 messages follow\r\n');
      this.pushWithProducer(listProducer([...(this.factory?.messages ?? [])]));
    } else if (command === 'NOOP') this.push('250 ok\r\n');
    else if (command === 'QUIT') {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    } else this.push('500 unknown command\r\n');
  }
}

/** The factory to listen with; messages live as long as it does. */
export function mailFactory(): MailFactory {
  const factory = new MailFactory();
  factory.protocol = MiniSmtp;
  return factory;
}
