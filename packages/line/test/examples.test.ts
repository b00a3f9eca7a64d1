// Runs every example in packages/line/examples against an in-memory client.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { connectedServerAndClient } from '@torsion/core/testing';
import { Int32StringReceiver, LineOnlyReceiver, NetstringReceiver } from '@torsion/line';
import { uploadFactory } from '../examples/line-upload.js';
import { keyValueFactory } from '../examples/netstring-kv.js';
import { calcFactory } from '../examples/length-prefixed-rpc.js';
import { mailFactory } from '../examples/mini-smtp.js';

class LineClient extends LineOnlyReceiver {
  override MAX_LENGTH = 1 << 20;
  lines: string[] = [];
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString('utf8'));
  }
}

class NetstringClient extends NetstringReceiver {
  replies: string[] = [];
  override stringReceived(payload: Buffer): void {
    this.replies.push(payload.toString('utf8'));
  }
}

class Int32Client extends Int32StringReceiver {
  replies: unknown[] = [];
  override stringReceived(payload: Buffer): void {
    this.replies.push(JSON.parse(payload.toString('utf8')));
  }
}

describe('examples', () => {
  it('line-upload: echoes, hashes a raw upload, and parses the line after it in the same packet', () => {
    const { client, pump } = connectedServerAndClient({
      serverFactory: uploadFactory(),
      clientProtocol: new LineClient(),
      chunking: 3,
    });
    const body = Buffer.from('binary\r\n\x00data');
    client.transport.write(
      Buffer.concat([
        Buffer.from(`ECHO hi\r\nPUT ${body.length}\r\n`),
        body,
        Buffer.from('QUIT\r\n'),
      ]),
    );
    pump.flush();
    const digest = createHash('sha256').update(body).digest('hex');
    expect(client.lines).to.deep.equal(['HI', `OK ${digest}`, 'BYE']);
  });

  it('netstring-kv: stores and returns values containing CRLF and commas', () => {
    const { client, pump } = connectedServerAndClient({
      serverFactory: keyValueFactory(),
      clientProtocol: new NetstringClient(),
    });
    client.sendString('SET k a,b\r\nc');
    client.sendString('GET k');
    client.sendString('GET nope');
    pump.flush();
    expect(client.replies).to.deep.equal(['OK', 'a,b\r\nc', 'MISSING']);
  });

  it('length-prefixed-rpc: answers JSON requests framed by 32-bit lengths', () => {
    const { client, pump } = connectedServerAndClient({
      serverFactory: calcFactory(),
      clientProtocol: new Int32Client(),
      chunking: 1,
    });
    client.sendString(JSON.stringify({ id: 1, op: 'sum', args: [1, 2, 3] }));
    client.sendString(JSON.stringify({ id: 2, op: 'product', args: [4, 5] }));
    pump.flush();
    expect(client.replies).to.deep.equal([
      { id: 1, result: 6 },
      { id: 2, result: 20 },
    ]);
  });

  it('mini-smtp: queues a message, lists it through a producer, and closes after QUIT', () => {
    const { client, pump, serverTransport } = connectedServerAndClient({
      serverFactory: mailFactory(),
      clientProtocol: new LineClient(),
    });
    client.transport.write('HELO me\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nLIST\r\nQUIT\r\n');
    pump.flush();
    expect(client.lines).to.deep.equal([
      '220 mini-smtp ready',
      '250 hello',
      '354 end with <CRLF>.<CRLF>',
      '250 queued',
      '250 messages follow',
      '1 Subject: hi',
      '',
      'body',
      '.',
      '221 bye',
    ]);
    expect(serverTransport.disconnected).to.equal(true);
  });
});
