// Tests of src/framing-receiver.ts: the delivery loop every receiver shares
// (pausing, re-entrancy, disconnecting), and the exception rule: a fault in a
// callback is logged exactly once, by the transport, and costs that one
// connection, whichever receiver it comes from.
import { expect } from 'chai';
import { ClientFactory, ConnectionLost, Factory, Protocol } from '@torsion/core';
import type { Failure } from '@torsion/core';
import {
  LogCapture,
  SimulatedReactor,
  StringTransport,
  connectedServerAndClient,
} from '@torsion/core/testing';
import { AsyncChat } from '../src/async-chat.js';
import { FramingReceiver } from '../src/framing-receiver.js';
import { Int16StringReceiver, Int8StringReceiver } from '../src/int-string-receiver.js';
import { LineOnlyReceiver } from '../src/line-only-receiver.js';
import { LineReceiver } from '../src/line-receiver.js';
import { NetstringReceiver } from '../src/netstring-receiver.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The smallest framing: every byte is a frame. */
class ByteReceiver extends FramingReceiver {
  readonly bytes: string[] = [];
  onByte: ((byte: string) => void) | null = null;
  #pending: number[] = [];

  protected override bufferReceived(data: Buffer): void {
    this.#pending.push(...data);
  }

  protected override deliverNext(): boolean {
    const byte = this.#pending.shift();
    if (byte === undefined) return false;
    const char = String.fromCharCode(byte);
    this.bytes.push(char);
    this.onByte?.(char);
    return true;
  }
  protected override discardBuffered(): number {
    return this.#pending.splice(0).length;
  }
}

function connectedByteReceiver(): { proto: ByteReceiver; transport: StringTransport } {
  const proto = new ByteReceiver();
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return { proto, transport };
}

describe('FramingReceiver', () => {
  it('holds delivery while paused, pauses the transport, and delivers what waited on resume', () => {
    const { proto, transport } = connectedByteReceiver();
    proto.onByte = (byte) => {
      if (byte === 'b') proto.pauseProducing();
    };
    proto.dataReceived(b('abc'));
    expect(proto.bytes).to.deep.equal(['a', 'b']);
    expect(proto.paused).to.equal(true);
    expect(transport.producerState).to.equal('paused');
    proto.dataReceived(b('d'));
    expect(proto.bytes).to.deep.equal(['a', 'b']);
    proto.resumeProducing();
    expect(proto.bytes).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(transport.producerState).to.equal('producing');
  });

  it('drops what a framing of its own buffered when TLS starts, through discardBuffered, with a warning', () => {
    const { proto } = connectedByteReceiver();
    proto.onByte = (byte) => {
      if (byte === 's') proto.tlsStarting();
    };
    const logs = LogCapture.start();
    try {
      proto.dataReceived(b('asxyz'));
      proto.dataReceived(b('t'));
    } finally {
      logs.stop();
    }
    expect(proto.bytes).to.deep.equal(['a', 's', 't']);
    const warnings = logs.events.filter((e) => e.level === 'warn');
    expect(warnings.map((e) => e.fields.bytes)).to.deep.equal([3]);
    expect(warnings[0]?.namespace).to.equal('torsion.line');
  });

  it('stops for good on stopProducing and tells the transport', () => {
    const { proto, transport } = connectedByteReceiver();
    proto.stopProducing();
    proto.dataReceived(b('a'));
    expect(proto.bytes).to.deep.equal([]);
    expect(transport.producerState).to.equal('stopped');
  });

  it('only buffers a dataReceived made from inside a callback, so order is kept', () => {
    const { proto } = connectedByteReceiver();
    proto.onByte = (byte) => {
      if (byte === 'a') proto.dataReceived(b('z'));
    };
    proto.dataReceived(b('ab'));
    expect(proto.bytes).to.deep.equal(['a', 'b', 'z']);
  });

  it('delivers nothing more, even from the same chunk, once the transport is disconnecting', () => {
    const { proto } = connectedByteReceiver();
    proto.onByte = (byte) => {
      if (byte === 'b') proto.transport.loseConnection();
    };
    proto.dataReceived(b('abc'));
    expect(proto.bytes).to.deep.equal(['a', 'b']);
  });

  it('lets an exception propagate without logging, and is not left busy by it', () => {
    const { proto } = connectedByteReceiver();
    const thrown = new Error('bad byte');
    proto.onByte = (byte) => {
      if (byte === 'b') throw thrown;
    };
    const logs = LogCapture.start();
    try {
      expect(() => {
        proto.dataReceived(b('abc'));
      }).to.throw(thrown);
    } finally {
      logs.stop();
    }
    expect(logs.events).to.deep.equal([]);
    proto.dataReceived(b('d'));
    expect(proto.bytes).to.deep.equal(['a', 'b', 'c', 'd']);
  });
});

/** A server protocol whose callback throws `thrown`, and the bytes that make it throw. */
interface FaultCase {
  name: string;
  make: (thrown: Error) => Protocol;
  input: Buffer;
}

function recordLoss<P extends Protocol>(proto: P, losses: Failure[]): P {
  const original = proto.connectionLost.bind(proto);
  proto.connectionLost = (reason: Failure): void => {
    losses.push(reason);
    original(reason);
  };
  return proto;
}

const faults: FaultCase[] = [
  {
    name: 'LineReceiver.lineReceived',
    make: (thrown) =>
      new (class extends LineReceiver {
        override lineReceived(): void {
          throw thrown;
        }
      })(),
    input: b('one\r\ntwo\r\n'),
  },
  {
    name: 'LineReceiver.rawDataReceived',
    make: (thrown) =>
      new (class extends LineReceiver {
        override lineReceived(): void {
          this.setRawMode();
        }
        override rawDataReceived(): void {
          throw thrown;
        }
      })(),
    input: b('go\r\nraw bytes'),
  },
  {
    name: 'LineReceiver.lineLengthExceeded',
    make: (thrown) =>
      new (class extends LineReceiver {
        override MAX_LENGTH = 4;
        override lineReceived(): void {}
        override lineLengthExceeded(): void {
          throw thrown;
        }
      })(),
    input: b('much too long\r\n'),
  },
  {
    name: 'LineOnlyReceiver.lineReceived',
    make: (thrown) =>
      new (class extends LineOnlyReceiver {
        override lineReceived(): void {
          throw thrown;
        }
      })(),
    input: b('one\r\ntwo\r\n'),
  },
  {
    name: 'NetstringReceiver.stringReceived',
    make: (thrown) =>
      new (class extends NetstringReceiver {
        override stringReceived(): void {
          throw thrown;
        }
      })(),
    input: b('3:one,3:two,'),
  },
  {
    name: 'Int16StringReceiver.stringReceived',
    make: (thrown) =>
      new (class extends Int16StringReceiver {
        override stringReceived(): void {
          throw thrown;
        }
      })(),
    input: Buffer.from([0, 1, 0x61, 0, 1, 0x62]),
  },
  {
    name: 'Int8StringReceiver.lengthLimitExceeded',
    make: (thrown) =>
      new (class extends Int8StringReceiver {
        override MAX_LENGTH = 1;
        override stringReceived(): void {}
        override lengthLimitExceeded(): void {
          throw thrown;
        }
      })(),
    input: Buffer.from([9]),
  },
  {
    name: 'AsyncChat.foundTerminator',
    make: (thrown) =>
      new (class extends AsyncChat {
        override connectionMade(): void {
          this.setTerminator('\r\n');
        }
        override foundTerminator(): void {
          throw thrown;
        }
      })(),
    input: b('HELO\r\nQUIT\r\n'),
  },
  {
    name: 'AsyncChat.collectIncomingData',
    make: (thrown) =>
      new (class extends AsyncChat {
        override connectionMade(): void {
          this.setTerminator('\r\n');
        }
        override collectIncomingData(): void {
          throw thrown;
        }
        override foundTerminator(): void {}
      })(),
    input: b('HELO\r\n'),
  },
  {
    name: 'an AsyncChat producer, on the first chunk',
    make: (thrown) =>
      new (class extends AsyncChat {
        override connectionMade(): void {
          this.setTerminator('\r\n');
        }
        override foundTerminator(): void {
          this.pushWithProducer({
            more: () => {
              throw thrown;
            },
          });
        }
      })(),
    input: b('GET\r\n'),
  },
  {
    name: 'an AsyncChat producer, pulled by the transport after a drain',
    make: (thrown) =>
      new (class extends AsyncChat {
        override connectionMade(): void {
          this.setTerminator('\r\n');
        }
        override foundTerminator(): void {
          let calls = 0;
          this.pushWithProducer({
            more: () => {
              calls += 1;
              if (calls > 1) throw thrown;
              return Buffer.alloc(this.outChunkSize);
            },
          });
        }
      })(),
    input: b('GET\r\n'),
  },
];

/** A client that sends `input` once connected. */
class Sender extends Protocol {
  constructor(readonly input: Buffer) {
    super();
  }

  override connectionMade(): void {
    this.transport.write(this.input);
  }
}

describe('a fault in a receiver callback', () => {
  for (const fault of faults) {
    it(`from ${fault.name} is logged once, with its stack, and aborts that connection with it as the cause (simulated TCP)`, () => {
      const thrown = new Error(`fault in ${fault.name}`);
      const losses: Failure[] = [];
      const reactor = new SimulatedReactor({ autoAdvance: false });
      const factory = new Factory();
      factory.buildProtocol = () => recordLoss(fault.make(thrown), losses);
      reactor.host('server').listenTCP(8, factory);
      const client = new ClientFactory();
      client.buildProtocol = () => new Sender(fault.input);
      const logs = LogCapture.start();
      try {
        reactor.host('client').connectTCP('server', 8, client);
        reactor.runUntilIdle();
      } finally {
        logs.stop();
      }
      const failures = logs.failures();
      expect(failures.map((f) => f.getErrorMessage())).to.deep.equal([thrown.message]);
      expect(failures[0]!.value).to.equal(thrown);
      expect(failures[0]!.getTraceback()).to.match(/\bat\b/);
      expect(losses).to.have.length(1);
      expect(losses[0]!.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(losses[0]!.value.cause).to.equal(thrown);
    });

    it(`from ${fault.name} is logged once by an IOPump that isolates errors`, () => {
      const thrown = new Error(`fault in ${fault.name}`);
      const logs = LogCapture.start();
      try {
        const { pump } = connectedServerAndClient({
          serverProtocol: fault.make(thrown),
          clientProtocol: new Sender(fault.input),
          isolateErrors: true,
          highWaterMark: 1024,
        });
        pump.flush();
      } finally {
        logs.stop();
      }
      expect(logs.failures().map((f) => f.value)).to.deep.equal([thrown]);
    });
  }
});
