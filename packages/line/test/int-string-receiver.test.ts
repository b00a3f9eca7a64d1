// Tests of src/int-string-receiver.ts: Int8/16/32StringReceiver over a StringTransport.
import { expect } from 'chai';
import { StringTransport } from '@torsion/core/testing';
import { StringTooLongError } from '../src/errors.js';
import {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  type IntNStringReceiver,
} from '../src/int-string-receiver.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

interface Recording {
  strings: string[];
  limits: number[];
}

function recorder(Base: abstract new () => IntNStringReceiver): IntNStringReceiver & Recording {
  const Concrete = Base as unknown as new () => IntNStringReceiver;
  class Recorder extends Concrete implements Recording {
    strings: string[] = [];
    limits: number[] = [];
    override stringReceived(payload: Buffer): void {
      this.strings.push(payload.toString('latin1'));
      if (payload.toString() === 'pause') this.pauseProducing();
    }
    override lengthLimitExceeded(length: number): void {
      this.limits.push(length);
      super.lengthLimitExceeded(length);
    }
  }
  return new Recorder();
}

describe('IntNStringReceiver', () => {
  const kinds = [
    ['Int8StringReceiver', Int8StringReceiver, '03 616263', 1],
    ['Int16StringReceiver', Int16StringReceiver, '0003 616263', 2],
    ['Int32StringReceiver', Int32StringReceiver, '00000003 616263', 4],
  ] as const;

  for (const [name, Base, wire, prefix] of kinds) {
    describe(name, () => {
      it('receives and sends strings byte-compatible with Twisted', () => {
        const proto = recorder(Base);
        const transport = new StringTransport();
        proto.makeConnection(transport);
        expect(proto.prefixLength).to.equal(prefix);
        const input = Buffer.concat([hex(wire), hex(wire)]);
        for (const piece of input) proto.dataReceived(Buffer.of(piece));
        expect(proto.strings).to.deep.equal(['abc', 'abc']);
        proto.sendString('abc');
        expect(transport.value()).to.deep.equal(hex(wire));
      });
    });
  }

  it('calls lengthLimitExceeded with the announced length and drops the connection', () => {
    const proto = recorder(Int32StringReceiver);
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.MAX_LENGTH = 10;
    proto.dataReceived(hex('00000002 6869 0fffffff 61'));
    expect(proto.strings).to.deep.equal(['hi']);
    expect(proto.limits).to.deep.equal([0x0fffffff]);
    expect(transport.disconnecting).to.equal(true);
  });

  it('raises StringTooLongError for a string that does not fit the prefix', () => {
    const proto = recorder(Int8StringReceiver);
    proto.makeConnection(new StringTransport());
    expect(() => proto.sendString(Buffer.alloc(256))).to.throw(StringTooLongError);
  });

  it('holds strings while paused and delivers them on resume', () => {
    const proto = recorder(Int16StringReceiver);
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.dataReceived(hex('0005 7061757365 0001 61 0001 62'));
    expect(proto.strings).to.deep.equal(['pause']);
    expect(transport.producerState).to.equal('paused');
    proto.resumeProducing();
    expect(proto.strings).to.deep.equal(['pause', 'a', 'b']);
  });
});
