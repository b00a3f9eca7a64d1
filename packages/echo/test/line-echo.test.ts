// LineEcho with the test doubles: complete lines come back with CRLF, partial
// lines wait, and an over-long line drops the connection.
import { expect } from 'chai';
import { StringTransport, fixedChunker } from '@torsion/core/testing';
import { LineEcho, LineEchoFactory } from '../src/line-echo.js';

function feed(proto: LineEcho, data: string, size: number): void {
  for (const chunk of fixedChunker(size)(Buffer.from(data))) proto.dataReceived(chunk);
}

describe('LineEcho', () => {
  for (const size of [1, 2, 3, 5, 64]) {
    it(`echoes each complete line with CRLF, fed in ${String(size)}-byte chunks`, () => {
      const transport = new StringTransport();
      const proto = new LineEcho();
      proto.makeConnection(transport);
      feed(proto, 'hello\r\n\r\nworld\r\npartial', size);
      expect(transport.value().toString()).to.equal('hello\r\n\r\nworld\r\n');
    });
  }

  it('sends a pending partial line once its delimiter arrives', () => {
    const transport = new StringTransport();
    const proto = new LineEcho();
    proto.makeConnection(transport);
    feed(proto, 'par', 1);
    expect(transport.value().length).to.equal(0);
    feed(proto, 'tial\r\n', 4);
    expect(transport.value().toString()).to.equal('partial\r\n');
  });

  it('drops the connection on a line longer than MAX_LENGTH', () => {
    const transport = new StringTransport();
    const proto = new LineEcho();
    proto.makeConnection(transport);
    proto.dataReceived(Buffer.alloc(proto.MAX_LENGTH + 10, 0x61));
    expect(transport.disconnecting).to.equal(true);
    expect(transport.value().length).to.equal(0);
  });

  it('LineEchoFactory builds LineEcho protocols', () => {
    const built = new LineEchoFactory().buildProtocol(new StringTransport().getPeer());
    expect(built).to.be.instanceOf(LineEcho);
  });
});
