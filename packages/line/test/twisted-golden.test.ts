// Golden byte vectors recorded from Twisted 22.4 (twisted.protocols.basic over
// twisted.internet.testing.StringTransport): what Twisted sends, Torsion must
// parse, and what Torsion sends must be byte-identical to what Twisted sends.
import { expect } from 'chai';
import { StringTransport } from '@torsion/core/testing';
import { StringTooLongError } from '../src/errors.js';
import {
  IntStringDecoder,
  LengthLimitExceeded,
  encodeIntString,
} from '../src/int-string-decoder.js';
import { LineDecoder, encodeLine } from '../src/line-decoder.js';
import { NetstringDecoder, encodeNetstring } from '../src/netstring-decoder.js';
import { NetstringReceiver } from '../src/netstring-receiver.js';
import { bytewise } from './helpers.js';

const PAYLOADS = [
  Buffer.alloc(0),
  Buffer.from('hello'),
  Buffer.from('a,b:c\r\n'),
  Buffer.from(Array.from({ length: 40 }, (_, i) => i)),
  Buffer.alloc(300, 0x78),
];
const seq40 = Buffer.from(Array.from({ length: 40 }, (_, i) => i)).toString('hex');
const x300 = '78'.repeat(300);

// Twisted's output for sendString(payload) / sendLine(line), as hex.
const TWISTED_SENDS = {
  netstring: [
    '303a2c',
    '353a68656c6c6f2c',
    '373a612c623a630d0a2c',
    `34303a${seq40}2c`,
    `3330303a${x300}2c`,
  ],
  int8: ['00', '0568656c6c6f', '07612c623a630d0a', `28${seq40}`, 'StringTooLongError'],
  int16: ['0000', '000568656c6c6f', '0007612c623a630d0a', `0028${seq40}`, `012c${x300}`],
  int32: [
    '00000000',
    '0000000568656c6c6f',
    '00000007612c623a630d0a',
    `00000028${seq40}`,
    `0000012c${x300}`,
  ],
};
const TWISTED_LINES: [string, string][] = [
  ['', '0d0a'],
  ['hello', '68656c6c6f0d0a'],
  ['a\rb\nc', '610d620a630d0a'],
];

function parseAll<T>(decoder: { decode(chunk: Buffer): T[] }, bytes: Buffer): T[] {
  return bytewise(bytes).flatMap((chunk) => decoder.decode(chunk));
}

describe('Twisted golden vectors', () => {
  it('sendLine output matches LineReceiver.sendLine and parses back to the same line', () => {
    for (const [line, wire] of TWISTED_LINES) {
      expect(encodeLine(line).toString('hex')).to.equal(wire);
      expect(parseAll(new LineDecoder(), Buffer.from(wire, 'hex'))).to.deep.equal([
        Buffer.from(line, 'latin1'),
      ]);
    }
  });

  it('netstrings match NetstringReceiver.sendString both ways', () => {
    PAYLOADS.forEach((payload, i) => {
      const wire = TWISTED_SENDS.netstring[i]!;
      expect(encodeNetstring(payload).toString('hex')).to.equal(wire);
      expect(parseAll(new NetstringDecoder(), Buffer.from(wire, 'hex'))).to.deep.equal([payload]);
    });
  });

  for (const [name, prefix] of [
    ['int8', 1],
    ['int16', 2],
    ['int32', 4],
  ] as const) {
    it(`${name} strings match Int${prefix * 8}StringReceiver.sendString both ways`, () => {
      PAYLOADS.forEach((payload, i) => {
        const wire = TWISTED_SENDS[name][i]!;
        if (wire === 'StringTooLongError') {
          expect(() => encodeIntString(payload, prefix)).to.throw(StringTooLongError);
          return;
        }
        expect(encodeIntString(payload, prefix).toString('hex')).to.equal(wire);
        expect(parseAll(new IntStringDecoder(prefix), Buffer.from(wire, 'hex'))).to.deep.equal([
          payload,
        ]);
      });
    });
  }

  it('parses mixed line input as Twisted does: only CRLF splits', () => {
    // Twisted delivered 610d620a63, '', 78797a.
    const lines = parseAll(new LineDecoder(), Buffer.from('a\rb\nc\r\n\r\nxyz\r\n', 'latin1'));
    expect(lines.map((l) => (l as Buffer).toString('hex'))).to.deep.equal([
      '610d620a63',
      '',
      '78797a',
    ]);
  });

  it('stops and disconnects where Twisted does on bad netstrings', () => {
    // Twisted: b"5:hello,0:,3:abcX1:a," -> "hello", "" then disconnect; "01:a," and "100000:" -> disconnect.
    for (const [input, expected] of [
      ['5:hello,0:,3:abcX1:a,', ['hello', '']],
      ['01:a,', []],
      ['100000:', []],
    ] as const) {
      class Recorder extends NetstringReceiver {
        got: string[] = [];
        override stringReceived(payload: Buffer): void {
          this.got.push(payload.toString());
        }
      }
      const proto = new Recorder();
      const transport = new StringTransport();
      proto.makeConnection(transport);
      for (const chunk of bytewise(Buffer.from(input))) proto.dataReceived(chunk);
      expect(proto.got).to.deep.equal(expected);
      expect(transport.disconnecting).to.equal(true);
    }
  });

  it('reports the announced length where Twisted calls lengthLimitExceeded', () => {
    // Twisted Int16 with MAX_LENGTH 1000 on 0003616263 000100 ffff: "abc", "\x00", LIMIT:65535.
    const out = parseAll(new IntStringDecoder(2, 1000), Buffer.from('0003616263000100ffff', 'hex'));
    expect(out.slice(0, 2)).to.deep.equal([Buffer.from('abc'), Buffer.of(0)]);
    expect(out[2]).to.be.instanceOf(LengthLimitExceeded);
    expect(out[2]).to.deep.equal(new LengthLimitExceeded(65535));
  });
});
