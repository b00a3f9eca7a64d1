// Tests of src/async-chat.ts: terminators, the default collector and its limit,
// and output that drains only as fast as the transport does.
import { expect } from 'chai';
import { Factory } from '@torsion/core';
import { LogCapture, StringTransport, connectedServerAndClient } from '@torsion/core/testing';
import { AsyncChat } from '../src/async-chat.js';
import { LineOnlyReceiver } from '../src/line-only-receiver.js';
import type { IChatProducer } from '../src/producer-fifo.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A tiny SMTP-like server: `DATA` reads a dot-terminated body, `SIZE n` a counted one. */
class Mini extends AsyncChat {
  frames: string[] = [];
  #mode: 'command' | 'body' = 'command';

  override connectionMade(): void {
    this.setTerminator('\r\n');
  }

  override foundTerminator(): void {
    const frame = this.takeIncomingData().toString('latin1');
    this.frames.push(frame);
    if (this.#mode === 'body') {
      this.#mode = 'command';
      this.setTerminator('\r\n');
      this.push(`250 got ${frame.length} bytes\r\n`);
    } else if (frame === 'DATA') {
      this.#mode = 'body';
      this.setTerminator('\r\n.\r\n');
    } else if (frame.startsWith('SIZE ')) {
      this.#mode = 'body';
      this.setTerminator(Number(frame.slice(5)));
    } else if (frame === 'QUIT') {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    } else if (frame.startsWith('BIG ')) {
      this.pushWithProducer(repeat('x', Number(frame.slice(4)), 1000));
      this.push('\r\n');
    } else if (frame === 'FAIL') {
      this.pushWithProducer({
        more(): string {
          throw new Error('producer failed');
        },
      });
    } else {
      this.push(`200 ${frame}\r\n`);
    }
  }
}

function repeat(char: string, total: number, step: number): IChatProducer {
  let left = total;
  return {
    more(): string {
      const n = Math.min(step, left);
      left -= n;
      return char.repeat(n);
    },
  };
}

class Lines extends LineOnlyReceiver {
  override MAX_LENGTH = 1 << 20;
  lines: string[] = [];
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString('latin1'));
  }
}

// StringTransport never drains on its own: pull the registered producer as a
// real transport would each time its buffer empties.
function drain(transport: StringTransport): number {
  let pulls = 0;
  while (transport.producer !== null && pulls < 1000) {
    transport.producer.resumeProducing();
    pulls += 1;
  }
  return pulls;
}

describe('AsyncChat', () => {
  it('switches between line, dot-terminated and counted frames', () => {
    const proto = new Mini();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    const input = b('HELO\r\nDATA\r\nline1\r\nline2\r\n.\r\nSIZE 4\r\nab\r\nNOOP\r\n');
    for (const byte of input) proto.dataReceived(Buffer.of(byte));
    drain(transport);
    expect(proto.frames).to.deep.equal([
      'HELO',
      'DATA',
      'line1\r\nline2',
      'SIZE 4',
      'ab\r\n',
      'NOOP',
    ]);
    expect(transport.value().toString()).to.equal(
      '200 HELO\r\n250 got 12 bytes\r\n250 got 4 bytes\r\n200 NOOP\r\n',
    );
  });

  it('answers 1,000 commands pipelined in one packet, in order', () => {
    const { client, pump } = connectedServerAndClient({
      serverFactory: Factory.forProtocol(Mini),
      clientProtocol: new Lines(),
    });
    const commands = Array.from({ length: 1000 }, (_, i) => `CMD${i}\r\n`).join('');
    client.transport.write(commands);
    pump.flush();
    expect(client.lines).to.have.length(1000);
    expect(client.lines.every((line, i) => line === `200 CMD${i}`)).to.equal(true);
  });

  it('writes a huge reply one bounded chunk per transport drain', () => {
    const proto = new Mini();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.outChunkSize = 4096;
    proto.dataReceived(b('BIG 20000\r\nPING\r\n'));
    expect(transport.value().length).to.equal(4096);
    expect(transport.streaming).to.equal(false);
    const drains = drain(transport);
    expect(transport.value().toString()).to.equal(`${'x'.repeat(20000)}\r\n200 PING\r\n`);
    // Four more 4 KiB chunks, then one pull that finds the queue empty.
    expect(drains).to.equal(5);
  });

  it('closes the connection once everything queued before closeWhenDone() was sent', () => {
    const { client, serverTransport, pump } = connectedServerAndClient({
      serverFactory: Factory.forProtocol(Mini),
      clientProtocol: new Lines(),
    });
    client.transport.write('BIG 100000\r\nQUIT\r\nNOOP\r\n');
    pump.flush();
    expect(client.lines).to.deep.equal(['x'.repeat(100000), '221 bye']);
    expect(serverTransport.disconnected).to.equal(true);
  });

  it('writes everything at once on a transport that takes no producers', () => {
    const proto = new Mini();
    const written: string[] = [];
    let lost = false;
    proto.makeConnection({
      disconnecting: false,
      write: (data) => written.push(Buffer.from(data).toString()),
      writeSequence: () => undefined,
      loseConnection: () => {
        lost = true;
      },
      getHost: () => new StringTransport().getHost(),
      getPeer: () => new StringTransport().getPeer(),
    });
    proto.dataReceived(b('BIG 10\r\nQUIT\r\n'));
    expect(written.join('')).to.equal('xxxxxxxxxx\r\n221 bye\r\n');
    expect(lost).to.equal(true);
  });

  it('lets a producer error reach the transport and drops what was queued after it', () => {
    const proto = new Mini();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    const logs = LogCapture.start();
    try {
      expect(() => {
        proto.dataReceived(b('FAIL\r\n'));
      }).to.throw(Error, 'producer failed');
    } finally {
      logs.stop();
    }
    expect(logs.events).to.deep.equal([]);
    expect(transport.aborted).to.equal(false);
    transport.clear();
    proto.dataReceived(b('NOOP\r\n'));
    expect(transport.value().toString()).to.equal('200 NOOP\r\n');
  });

  it('drops a peer whose frame exceeds MAX_LENGTH in the default collector, with a logged reason', () => {
    const proto = new Mini();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.MAX_LENGTH = 100;
    const logs = LogCapture.start();
    try {
      for (let i = 0; i < 50; i++) proto.dataReceived(Buffer.alloc(64, 0x61));
    } finally {
      logs.stop();
    }
    expect(transport.disconnecting).to.equal(true);
    expect(proto.frames).to.deep.equal([]);
    expect(logs.events[0]!.fields.maxLength).to.equal(100);
  });

  it('rejects a negative terminator count', () => {
    const proto = new Mini();
    proto.makeConnection(new StringTransport());
    expect(() => proto.setTerminator(-1)).to.throw(RangeError);
    proto.setTerminator(null);
    expect(proto.getTerminator()).to.equal(null);
  });
});
