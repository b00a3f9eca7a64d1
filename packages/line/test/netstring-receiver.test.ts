// Tests of src/netstring-receiver.ts over a StringTransport.
import { expect } from 'chai';
import { fixedChunker, LogCapture, type StringTransport } from '@torsion/core/testing';
import { NetstringReceiver } from '../src/netstring-receiver.js';
import { connected } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

class Recorder extends NetstringReceiver {
  strings: string[] = [];
  override stringReceived(payload: Buffer): void {
    this.strings.push(payload.toString('latin1'));
    if (payload.toString() === 'boom') throw new Error('boom');
  }
}

function connect(): { proto: Recorder; transport: StringTransport } {
  return connected(new Recorder());
}

describe('NetstringReceiver', () => {
  it('delivers netstrings at every chunk size from 1 to 9 bytes', () => {
    const input = b('5:hello,0:,3:a,b,');
    for (let size = 1; size <= 9; size++) {
      const { proto } = connect();
      for (const chunk of fixedChunker(size)(input)) proto.dataReceived(chunk);
      expect(proto.strings).to.deep.equal(['hello', '', 'a,b']);
    }
  });

  it('sends netstrings as Twisted does', () => {
    const { proto, transport } = connect();
    proto.sendString('hello');
    expect(transport.value().toString()).to.equal('5:hello,');
  });

  for (const input of ['3:abcX', '100000:', '1152921504606846976:']) {
    it(`drops the connection with a logged reason on ${JSON.stringify(input)}`, () => {
      const { proto, transport } = connect();
      const logs = LogCapture.start();
      try {
        proto.dataReceived(b(`1:a,${input}`));
        proto.dataReceived(b('1:b,'));
      } finally {
        logs.stop();
      }
      expect(proto.strings).to.deep.equal(['a']);
      expect(transport.disconnecting).to.equal(true);
      expect(proto.brokenPeer).to.equal(true);
      expect(logs.events[0]!.level).to.equal('warn');
      expect(logs.events[0]!.fields.code).to.equal('TORSION_ERR_NETSTRING_PARSE');
    });
  }

  it('honours a MAX_LENGTH set on the instance', () => {
    const { proto, transport } = connect();
    proto.MAX_LENGTH = 2;
    const logs = LogCapture.start();
    try {
      proto.dataReceived(b('2:ab,3:abc,'));
    } finally {
      logs.stop();
    }
    expect(proto.strings).to.deep.equal(['ab']);
    expect(transport.disconnecting).to.equal(true);
  });

  it('stops delivering once the transport is disconnecting', () => {
    const { proto, transport } = connect();
    proto.dataReceived(b('1:a,'));
    transport.loseConnection();
    proto.dataReceived(b('1:b,'));
    expect(proto.strings).to.deep.equal(['a']);
  });

  it('lets an exception from stringReceived reach the transport, and delivers the rest on the next call', () => {
    const { proto, transport } = connect();
    const logs = LogCapture.start();
    try {
      expect(() => {
        proto.dataReceived(b('4:boom,1:x,'));
      }).to.throw(Error, 'boom');
    } finally {
      logs.stop();
    }
    expect(proto.strings).to.deep.equal(['boom']);
    expect(logs.events).to.deep.equal([]);
    expect(transport.aborted).to.equal(false);
    proto.dataReceived(b('1:y,'));
    expect(proto.strings).to.deep.equal(['boom', 'x', 'y']);
  });
});
