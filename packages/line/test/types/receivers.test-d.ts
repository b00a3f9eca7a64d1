// Type-level tests for src/*-receiver.ts and src/async-chat.ts: every framing
// receiver is a protocol a reactor can drive, and its type parameters type
// `this.transport` in a subclass.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type { IProtocol, IProtocolFactory, ITCPTransport, ITransport } from '@torsion/core';
import { expectTypeOf } from 'expect-type';

import type { AsyncChat } from '../../src/async-chat.js';
import type {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
} from '../../src/int-string-receiver.js';
import type { LineOnlyReceiver } from '../../src/line-only-receiver.js';
import { LineReceiver } from '../../src/line-receiver.js';
import type { NetstringReceiver } from '../../src/netstring-receiver.js';

expectTypeOf<LineReceiver>().toExtend<IProtocol>();
expectTypeOf<LineOnlyReceiver>().toExtend<IProtocol>();
expectTypeOf<NetstringReceiver>().toExtend<IProtocol>();
expectTypeOf<Int8StringReceiver>().toExtend<IProtocol>();
expectTypeOf<Int16StringReceiver>().toExtend<IProtocol>();
expectTypeOf<Int32StringReceiver>().toExtend<IProtocol>();
expectTypeOf<AsyncChat>().toExtend<IProtocol>();

class TcpLines extends LineReceiver<IProtocolFactory, ITCPTransport> {
  override lineReceived(): void {}
}
expectTypeOf<TcpLines['transport']>().toEqualTypeOf<ITCPTransport>();
expectTypeOf<LineReceiver['transport']>().toEqualTypeOf<ITransport>();
