// Tests of src/line-only-receiver.ts: the same line rules as LineReceiver,
// without raw mode.
import { expect } from 'chai';
import { fixedChunker, LogCapture, type StringTransport } from '@torsion/core/testing';
import { LineOnlyReceiver } from '../src/line-only-receiver.js';
import { connected } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

class Recorder extends LineOnlyReceiver {
  lines: string[] = [];
  tooLong: number[] = [];
  onLine: ((line: string) => void) | null = null;

  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString('latin1'));
    this.onLine?.(line.toString('latin1'));
  }

  override lineLengthExceeded(line: Buffer): void {
    this.tooLong.push(line.length);
    super.lineLengthExceeded(line);
  }
}

function connect(): { proto: Recorder; transport: StringTransport } {
  return connected(new Recorder());
}

describe('LineOnlyReceiver', () => {
  it('delivers the same lines at every chunk size from 1 to 9 bytes', () => {
    const input = b('a\rb\nc\r\n\r\nxyz\r\n');
    for (let size = 1; size <= 9; size++) {
      const { proto } = connect();
      for (const chunk of fixedChunker(size)(input)) proto.dataReceived(chunk);
      expect(proto.lines).to.deep.equal(['a\rb\nc', '', 'xyz']);
    }
  });

  it('uses the same MAX_LENGTH rule as LineReceiver: MAX_LENGTH + delimiter length pending trips it', () => {
    const { proto, transport } = connect();
    proto.MAX_LENGTH = 10;
    proto.dataReceived(Buffer.alloc(11, 0x61));
    expect(proto.tooLong).to.deep.equal([]);
    proto.dataReceived(b('a'));
    expect(proto.tooLong).to.deep.equal([12]);
    expect(transport.disconnecting).to.equal(true);
  });

  it('passes only the over-long line, not the rest of the buffer, to lineLengthExceeded', () => {
    const { proto } = connect();
    proto.MAX_LENGTH = 3;
    proto.dataReceived(b('abcd\r\nmore\r\n'));
    expect(proto.tooLong).to.deep.equal([4]);
    expect(proto.lines).to.deep.equal([]);
  });

  it('disregards the lines after one that closed the connection', () => {
    const { proto, transport } = connect();
    proto.onLine = (line) => {
      if (line === 'QUIT') transport.loseConnection();
    };
    proto.dataReceived(b('one\r\nQUIT\r\nafter\r\n'));
    expect(proto.lines).to.deep.equal(['one', 'QUIT']);
  });

  it('sends a line followed by its delimiter', () => {
    const { proto, transport } = connect();
    proto.sendLine('hi');
    expect(transport.value().toString()).to.equal('hi\r\n');
  });

  it('lets an exception from lineReceived reach the transport without logging or closing', () => {
    const { proto, transport } = connect();
    proto.onLine = () => {
      throw new Error('bad');
    };
    const logs = LogCapture.start();
    try {
      expect(() => {
        proto.dataReceived(b('x\r\n'));
      }).to.throw(Error, 'bad');
    } finally {
      logs.stop();
    }
    expect(logs.events).to.deep.equal([]);
    expect(transport.aborted).to.equal(false);
  });
});
