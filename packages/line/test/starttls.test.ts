// Tests of FramingReceiver.tlsStarting() in every receiver: when a protocol
// switches to TLS (a STARTTLS command answered by transport.startTLS()),
// plaintext bytes that arrived after the command, in the same chunk or
// buffered earlier, are dropped with a warning and never delivered as frames
// (STARTTLS command injection, CVE-2011-0411). The transport here is a
// StringTransport whose startTLS() calls tlsStarting() as real transports do.
import { expect } from 'chai';
import type { IProtocolFactory } from '@torsion/core';
import { LogCapture, StringTransport } from '@torsion/core/testing';
import fc from 'fast-check';
import { AsyncChat } from '../src/async-chat.js';
import type { FramingReceiver } from '../src/framing-receiver.js';
import { IntNStringReceiver } from '../src/int-string-receiver.js';
import { encodeIntString, type PrefixLength } from '../src/int-string-decoder.js';
import { LineOnlyReceiver } from '../src/line-only-receiver.js';
import { LineReceiver } from '../src/line-receiver.js';
import { encodeNetstring } from '../src/netstring-decoder.js';
import { NetstringReceiver } from '../src/netstring-receiver.js';
import { cutsArb, splitAt } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * A StringTransport with the part of startTLS() receivers depend on: it calls
 * the protocol's tlsStarting() synchronously, and from then on the bytes the
 * peer sends go to the TLS engine (recorded in `engineInput`), not to the
 * protocol.
 */
class SwitchingTransport extends StringTransport {
  switched = false;
  readonly engineInput: Buffer[] = [];
  #protocol: FramingReceiver | null = null;

  attach(protocol: FramingReceiver): void {
    this.#protocol = protocol;
  }

  startTLS(): void {
    if (this.switched) throw new Error('TLS was already started');
    this.switched = true;
    this.#protocol?.tlsStarting();
  }

  /** What the network hands over: plaintext to the protocol before the switch, to the engine after. */
  receive(chunk: Buffer): void {
    if (this.switched) this.engineInput.push(chunk);
    else this.#protocol?.dataReceived(chunk);
  }
}

type Transport = SwitchingTransport;

/** A receiver under test: how to frame a message for it, and what it delivered. */
interface Subject {
  readonly proto: FramingReceiver<IProtocolFactory, Transport>;
  readonly frames: string[];
  encode(frame: string): Buffer;
}

/** A length-prefixed string receiver that switches on the string `STARTTLS`. */
function intStringSubject(prefix: PrefixLength): Subject {
  class Server extends IntNStringReceiver<IProtocolFactory, Transport> {
    readonly frames: string[] = [];
    constructor() {
      super(prefix);
    }
    override stringReceived(payload: Buffer): void {
      const text = payload.toString('latin1');
      this.frames.push(text);
      if (text === 'STARTTLS') this.transport.startTLS();
    }
  }
  const proto = new Server();
  return { proto, frames: proto.frames, encode: (f) => encodeIntString(f, prefix) };
}

/** Every receiver, acting as a STARTTLS server: frame `STARTTLS` switches, after answering READY. */
const subjects: Record<string, () => Subject> = {
  LineReceiver: () => {
    class Server extends LineReceiver<IProtocolFactory, Transport> {
      readonly frames: string[] = [];
      override lineReceived(line: Buffer): void {
        const text = line.toString('latin1');
        this.frames.push(text);
        if (text === 'STARTTLS') {
          this.sendLine('READY');
          this.transport.startTLS();
        }
      }
    }
    const proto = new Server();
    return { proto, frames: proto.frames, encode: (f) => b(`${f}\r\n`) };
  },
  LineOnlyReceiver: () => {
    class Server extends LineOnlyReceiver<IProtocolFactory, Transport> {
      readonly frames: string[] = [];
      override lineReceived(line: Buffer): void {
        const text = line.toString('latin1');
        this.frames.push(text);
        if (text === 'STARTTLS') this.transport.startTLS();
      }
    }
    const proto = new Server();
    return { proto, frames: proto.frames, encode: (f) => b(`${f}\r\n`) };
  },
  NetstringReceiver: () => {
    class Server extends NetstringReceiver<IProtocolFactory, Transport> {
      readonly frames: string[] = [];
      override stringReceived(payload: Buffer): void {
        const text = payload.toString('latin1');
        this.frames.push(text);
        if (text === 'STARTTLS') this.transport.startTLS();
      }
    }
    const proto = new Server();
    return { proto, frames: proto.frames, encode: (f) => encodeNetstring(f) };
  },
  Int8StringReceiver: () => intStringSubject(1),
  Int16StringReceiver: () => intStringSubject(2),
  Int32StringReceiver: () => intStringSubject(4),
  AsyncChat: () => {
    class Server extends AsyncChat<IProtocolFactory, Transport> {
      readonly frames: string[] = [];
      constructor() {
        super();
        this.setTerminator('\r\n');
      }
      override foundTerminator(): void {
        const text = this.takeIncomingData().toString('latin1');
        this.frames.push(text);
        if (text === 'STARTTLS') {
          this.push('READY\r\n');
          this.transport.startTLS();
        }
      }
    }
    const proto = new Server();
    return { proto, frames: proto.frames, encode: (f) => b(`${f}\r\n`) };
  },
};

function connect(make: () => Subject): Subject & { transport: SwitchingTransport } {
  const subject = make();
  const transport = new SwitchingTransport();
  transport.attach(subject.proto);
  subject.proto.makeConnection(transport);
  return { ...subject, transport };
}

/** The `torsion.line` warnings about dropped plaintext, as byte counts. */
function droppedCounts(logs: LogCapture): number[] {
  return logs.events
    .filter((e) => e.namespace === 'torsion.line' && e.level === 'warn')
    .filter((e) => e.message.includes('before the switch to TLS'))
    .map((e) => e.fields.bytes as number);
}

/**
 * Plays a STARTTLS exchange: `chunks` arrive in plaintext (those after the
 * switch go to the TLS engine), then `AFTER` arrives decrypted. Returns what
 * the protocol delivered, how many plaintext bytes it was handed after the
 * STARTTLS frame, and the warnings.
 */
function play(
  make: () => Subject,
  chunks: readonly Buffer[],
): { frames: string[]; handedAfterCommand: number; dropped: number[]; switched: boolean } {
  const subject = connect(make);
  const command = subject.encode('STARTTLS').length;
  let handed = 0;
  const logs = LogCapture.start();
  try {
    for (const chunk of chunks) {
      if (!subject.transport.switched) handed += chunk.length;
      subject.transport.receive(chunk);
    }
    // What the TLS engine decrypts once the handshake is done.
    subject.proto.dataReceived(subject.encode('AFTER'));
  } finally {
    logs.stop();
  }
  return {
    frames: subject.frames,
    handedAfterCommand: handed - command,
    dropped: droppedCounts(logs),
    switched: subject.transport.switched,
  };
}

describe('STARTTLS: receivers drop plaintext received before the switch to TLS', () => {
  for (const [name, make] of Object.entries(subjects)) {
    describe(name, () => {
      const encode = (frames: readonly string[]): Buffer =>
        Buffer.concat(frames.map((f) => make().encode(f)));

      it('never delivers the frames pipelined after STARTTLS in the same chunk, and warns with the count', () => {
        const input = encode(['STARTTLS', 'INJECTED', 'RSET']);
        const result = play(make, [input]);
        expect(result.frames).to.deep.equal(['STARTTLS', 'AFTER']);
        expect(result.dropped).to.deep.equal([input.length - make().encode('STARTTLS').length]);
      });

      it('delivers no injected frame at any single split point, and counts exactly what it dropped', () => {
        const input = encode(['STARTTLS', 'INJECTED']);
        for (let cut = 0; cut <= input.length; cut++) {
          const result = play(make, splitAt(input, [cut]));
          expect(result.frames, `split at ${cut}`).to.deep.equal(['STARTTLS', 'AFTER']);
          const expected = result.handedAfterCommand > 0 ? [result.handedAfterCommand] : [];
          expect(result.dropped, `split at ${cut}`).to.deep.equal(expected);
        }
      });

      it('delivers no injected frame however the input is split (property)', () => {
        const frameArb = fc.string({
          unit: fc.constantFrom('A', 'B', 'C', ' ', '\r'),
          maxLength: 12,
        });
        fc.assert(
          fc.property(fc.array(frameArb, { maxLength: 5 }), cutsArb, (injected, cuts) => {
            const input = encode(['STARTTLS', ...injected.map((f) => `X${f}`)]);
            const result = play(make, splitAt(input, cuts));
            expect(result.switched).to.equal(true);
            expect(result.frames).to.deep.equal(['STARTTLS', 'AFTER']);
            const expected = result.handedAfterCommand > 0 ? [result.handedAfterCommand] : [];
            expect(result.dropped).to.deep.equal(expected);
          }),
        );
      });

      it('logs nothing when nothing was buffered', () => {
        const result = play(make, [encode(['STARTTLS'])]);
        expect(result.frames).to.deep.equal(['STARTTLS', 'AFTER']);
        expect(result.dropped).to.deep.equal([]);
      });
    });
  }

  it('drops frames a paused receiver was holding when the switch comes from outside a callback', () => {
    const subject = connect(subjects.LineReceiver as () => Subject);
    subject.proto.pauseProducing();
    const held = b('QUIT\r\nPARTIAL');
    const logs = LogCapture.start();
    try {
      subject.proto.dataReceived(held);
      subject.transport.startTLS();
      subject.proto.resumeProducing();
      subject.proto.dataReceived(b('AFTER\r\n'));
    } finally {
      logs.stop();
    }
    expect(subject.frames).to.deep.equal(['AFTER']);
    expect(droppedCounts(logs)).to.deep.equal([held.length]);
  });

  it('drops the part of a frame the AsyncChat collector kept, so it cannot prefix the first protected frame', () => {
    class Client extends AsyncChat<IProtocolFactory, Transport> {
      readonly frames: string[] = [];
      constructor() {
        super();
        this.setTerminator('\r\n');
      }
      override foundTerminator(): void {
        this.frames.push(this.takeIncomingData().toString('latin1'));
      }
    }
    const proto = new Client();
    const transport = new SwitchingTransport();
    transport.attach(proto);
    proto.makeConnection(transport);
    const logs = LogCapture.start();
    try {
      proto.dataReceived(b('MAIL FROM:<evil>'));
      transport.startTLS();
      proto.dataReceived(b('NOOP\r\n'));
    } finally {
      logs.stop();
    }
    expect(proto.frames).to.deep.equal(['NOOP']);
    expect(droppedCounts(logs)).to.deep.equal([b('MAIL FROM:<evil>').length]);
  });

  it('lets LineReceiver switch modes as usual after the switch', () => {
    class Raw extends LineReceiver<IProtocolFactory, Transport> {
      readonly events: string[] = [];
      override lineReceived(line: Buffer): void {
        this.events.push(`line:${line.toString('latin1')}`);
        if (line.toString('latin1') === 'STARTTLS') this.transport.startTLS();
        else this.setRawMode();
      }
      override rawDataReceived(data: Buffer): void {
        this.events.push(`raw:${data.toString('latin1')}`);
      }
    }
    const proto = new Raw();
    const transport = new SwitchingTransport();
    transport.attach(proto);
    proto.makeConnection(transport);
    proto.dataReceived(b('STARTTLS\r\nINJECTED\r\n'));
    proto.dataReceived(b('BODY\r\n'));
    proto.dataReceived(b('bytes'));
    expect(proto.events).to.deep.equal(['line:STARTTLS', 'line:BODY', 'raw:bytes']);
  });
});
