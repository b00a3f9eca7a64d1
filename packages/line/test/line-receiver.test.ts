// Tests of src/line-receiver.ts: LineReceiver over a StringTransport — modes,
// limits, pausing, disconnecting, re-entrancy and errors in callbacks (how the
// transport logs them: test/framing-receiver.test.ts).
import { expect } from 'chai';
import { fixedChunker, LogCapture, StringTransport } from '@torsion/core/testing';
import { LineReceiver } from '../src/line-receiver.js';
import { bytewise, connected } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

class Recorder extends LineReceiver {
  events: string[] = [];
  onLine: ((line: string) => void) | null = null;
  onRaw: ((data: string) => void) | null = null;

  override lineReceived(line: Buffer): void {
    this.events.push(`line:${line.toString('latin1')}`);
    this.onLine?.(line.toString('latin1'));
  }

  override rawDataReceived(data: Buffer): void {
    this.events.push(`raw:${data.toString('latin1')}`);
    this.onRaw?.(data.toString('latin1'));
  }

  override lineLengthExceeded(line: Buffer): void {
    this.events.push(`toolong:${line.length}`);
    super.lineLengthExceeded(line);
  }
}

function connect(): { proto: Recorder; transport: StringTransport } {
  return connected(new Recorder());
}

describe('LineReceiver', () => {
  it('delivers the same lines at every chunk size from 1 to 9 bytes', () => {
    const input = b('len 0\r\nfoo bar\r\n\r\nlast line\r\n');
    for (let size = 1; size <= 9; size++) {
      const { proto } = connect();
      for (const chunk of fixedChunker(size)(input)) proto.dataReceived(chunk);
      expect(proto.events).to.deep.equal(['line:len 0', 'line:foo bar', 'line:', 'line:last line']);
    }
  });

  it('uses a delimiter set on the instance', () => {
    const { proto } = connect();
    proto.delimiter = '\n';
    proto.dataReceived(b('a\nb\r\n'));
    expect(proto.events).to.deep.equal(['line:a', 'line:b\r']);
  });

  it('delivers the rest of the chunk raw after setRawMode() in lineReceived, as Twisted', () => {
    const { proto } = connect();
    proto.onLine = (line) => {
      if (line === 'RAW') proto.setRawMode();
    };
    proto.dataReceived(b('one\r\nRAW\r\nraw stuff\r\nmore\r\n'));
    expect(proto.events).to.deep.equal(['line:one', 'line:RAW', 'raw:raw stuff\r\nmore\r\n']);
  });

  it('parses the extra bytes given to setLineMode() from rawDataReceived before later data', () => {
    const { proto } = connect();
    proto.setRawMode();
    proto.onRaw = (data) => {
      const end = data.indexOf('|');
      if (end !== -1) proto.setLineMode(b(data.slice(end + 1)));
    };
    proto.dataReceived(b('12345|after\r\n'));
    proto.dataReceived(b('next\r\n'));
    expect(proto.events).to.deep.equal(['raw:12345|after\r\n', 'line:after', 'line:next']);
  });

  it('calls lineLengthExceeded with the over-long line and drops the connection by default', () => {
    const { proto, transport } = connect();
    proto.MAX_LENGTH = 5;
    proto.dataReceived(b('12345\r\n123456\r\nnot delivered\r\n'));
    expect(proto.events).to.deep.equal(['line:12345', 'toolong:6']);
    expect(transport.disconnecting).to.equal(true);
  });

  it('keeps memory under MAX_LENGTH plus one chunk for an endless line and drops the peer once', () => {
    const { proto, transport } = connect();
    proto.MAX_LENGTH = 100;
    proto.dataReceived(Buffer.alloc(101, 0x61));
    expect(proto.events).to.deep.equal([]);
    proto.dataReceived(Buffer.alloc(64, 0x61));
    expect(proto.events).to.deep.equal(['toolong:165']);
    expect(transport.disconnecting).to.equal(true);
    expect(proto.clearLineBuffer().length).to.be.at.most(1);
  });

  it('recovers after the over-long line when lineLengthExceeded keeps the connection', () => {
    class Lenient extends Recorder {
      override lineLengthExceeded(line: Buffer): void {
        this.events.push(`toolong:${line.length}`);
      }
    }
    const proto = new Lenient();
    proto.makeConnection(new StringTransport());
    proto.MAX_LENGTH = 3;
    for (const piece of bytewise(b('abcdefgh\r\nok\r\n'))) proto.dataReceived(piece);
    expect(proto.events).to.deep.equal(['toolong:5', 'line:ok']);
  });

  it('stops delivering lines once the transport is disconnecting', () => {
    const { proto, transport } = connect();
    proto.onLine = (line) => {
      if (line === 'QUIT') transport.loseConnection();
    };
    proto.dataReceived(b('one\r\nQUIT\r\nafter\r\n'));
    expect(proto.events).to.deep.equal(['line:one', 'line:QUIT']);
  });

  it('holds lines while paused, pauses the transport, and delivers them on resume', () => {
    const { proto, transport } = connect();
    proto.onLine = (line) => {
      if (line === 'pause') proto.pauseProducing();
    };
    proto.dataReceived(b('pause\r\nheld\r\n'));
    proto.dataReceived(b('also held\r\n'));
    expect(proto.events).to.deep.equal(['line:pause']);
    expect(proto.paused).to.equal(true);
    expect(transport.producerState).to.equal('paused');
    proto.resumeProducing();
    expect(transport.producerState).to.equal('producing');
    expect(proto.events).to.deep.equal(['line:pause', 'line:held', 'line:also held']);
  });

  it('stopProducing() stops delivery and stops the transport', () => {
    const { proto, transport } = connect();
    proto.stopProducing();
    proto.dataReceived(b('x\r\n'));
    expect(proto.events).to.deep.equal([]);
    expect(transport.producerState).to.equal('stopped');
  });

  it('only buffers data received re-entrantly from lineReceived, keeping order', () => {
    const { proto } = connect();
    proto.onLine = (line) => {
      if (line === 'a') proto.dataReceived(b('inner\r\n'));
    };
    proto.dataReceived(b('a\r\nb\r\n'));
    expect(proto.events).to.deep.equal(['line:a', 'line:b', 'line:inner']);
  });

  it('returns the buffered bytes from clearLineBuffer(), including the rest of the chunk', () => {
    const { proto } = connect();
    let rest = '';
    proto.onLine = () => {
      rest = proto.clearLineBuffer().toString();
    };
    proto.dataReceived(b('first\r\nsecond\r\npart'));
    expect(proto.events).to.deep.equal(['line:first']);
    expect(rest).to.equal('second\r\npart');
  });

  it('sends a line with the delimiter in one write and rejects non-bytes', () => {
    const { proto, transport } = connect();
    proto.sendLine('hello');
    proto.delimiter = '\n';
    proto.sendLine(Buffer.from('x'));
    expect(transport.value().toString()).to.equal('hello\r\nx\n');
    expect(() => proto.sendLine(7 as unknown as string)).to.throw(TypeError, /number/);
  });

  it('lets an exception from lineReceived reach the transport, and delivers the rest on the next call', () => {
    const { proto, transport } = connect();
    const thrown = new RangeError('boom');
    proto.onLine = (line) => {
      if (line === 'x') throw thrown;
    };
    const logs = LogCapture.start();
    try {
      expect(() => {
        proto.dataReceived(b('x\r\ny\r\n'));
      }).to.throw(RangeError);
    } finally {
      logs.stop();
    }
    // The receiver neither logs nor closes: that is the transport's job (one log per fault).
    expect(logs.events).to.deep.equal([]);
    expect(transport.aborted).to.equal(false);
    expect(proto.events).to.deep.equal(['line:x']);
    proto.dataReceived(b('z\r\n'));
    expect(proto.events).to.deep.equal(['line:x', 'line:y', 'line:z']);
  });

  it('throws an error naming rawDataReceived when raw mode is used without it', () => {
    class LinesOnly extends LineReceiver {
      override lineReceived(): void {
        this.setRawMode();
      }
    }
    const proto = new LinesOnly();
    proto.makeConnection(new StringTransport());
    expect(() => {
      proto.dataReceived(b('go\r\nbinary'));
    }).to.throw(Error, /LinesOnly .*rawDataReceived/);
  });
});
