// Type-level tests for src/protocol.ts, src/factory.ts and
// src/reconnecting-client-factory.ts: the base classes implement the
// contracts, and Protocol's type parameters type `factory` and `transport`.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import { expectTypeOf } from 'expect-type';

import { ClientFactory, Factory, ServerFactory } from '../../src/factory.js';
import type {
  IClientFactory,
  IProtocol,
  IProtocolFactory,
  ITCPTransport,
  ITransport,
} from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import type { ReconnectingClientFactory } from '../../src/reconnecting-client-factory.js';

expectTypeOf<Protocol>().toExtend<IProtocol>();
expectTypeOf<Factory>().toExtend<IProtocolFactory>();
expectTypeOf<ServerFactory>().toExtend<IProtocolFactory>();
expectTypeOf<ClientFactory>().toExtend<IClientFactory>();
expectTypeOf<ReconnectingClientFactory>().toExtend<IClientFactory>();
// A server factory has no client callbacks.
expectTypeOf<Factory>().not.toExtend<IClientFactory>();

// Protocol<F, T>: a subclass sees its own factory and transport types.
class Greeter extends Protocol<ClientFactory, ITCPTransport> {}
expectTypeOf<Greeter['factory']>().toEqualTypeOf<ClientFactory | null>();
expectTypeOf<Greeter['transport']>().toEqualTypeOf<ITCPTransport>();
expectTypeOf<Protocol['transport']>().toEqualTypeOf<ITransport>();
expectTypeOf<Protocol['factory']>().toEqualTypeOf<IProtocolFactory | null>();

// buildProtocol may decline a connection by returning null.
expectTypeOf<Factory['buildProtocol']>().returns.toEqualTypeOf<IProtocol | null>();
