// Type-level tests for src/testing/: each test double is assignable to the
// interfaces it stands in for, so a double cannot drift from the contract code
// under test relies on (the check Twisted's testing.py makes with verifyClass).
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import { expectTypeOf } from 'expect-type';

import type {
  IConnector,
  IListeningPort,
  IReactor,
  IReactorCore,
  IReactorTCP,
  IReactorTime,
  ITCPTransport,
} from '../../src/interfaces.js';
import type {
  Clock,
  FakeConnector,
  FakeListeningPort,
  FakeTransport,
  MemoryReactor,
  MemoryReactorClock,
  SimulatedConnector,
  SimulatedHost,
  SimulatedPort,
  SimulatedReactor,
  SimulatedTransport,
  StringTransport,
  StringTransportWithDisconnection,
} from '../../src/testing/index.js';

// Transports.
expectTypeOf<StringTransport>().toExtend<ITCPTransport>();
expectTypeOf<StringTransportWithDisconnection>().toExtend<ITCPTransport>();
expectTypeOf<FakeTransport>().toExtend<ITCPTransport>();
expectTypeOf<SimulatedTransport>().toExtend<ITCPTransport>();

// Reactors: MemoryReactor records calls but keeps no time; MemoryReactorClock adds a Clock.
expectTypeOf<MemoryReactor>().toExtend<IReactorCore & IReactorTCP>();
expectTypeOf<MemoryReactor>().not.toExtend<IReactorTime>();
expectTypeOf<MemoryReactorClock>().toExtend<IReactor>();
expectTypeOf<SimulatedReactor>().toExtend<IReactor>();
expectTypeOf<SimulatedHost>().toExtend<IReactor>();
expectTypeOf<Clock>().toExtend<IReactorTime>();

// What listenTCP and connectTCP return.
expectTypeOf<FakeListeningPort>().toExtend<IListeningPort>();
expectTypeOf<FakeConnector>().toExtend<IConnector>();
expectTypeOf<SimulatedPort>().toExtend<IListeningPort>();
expectTypeOf<SimulatedConnector>().toExtend<IConnector>();
expectTypeOf<MemoryReactor['listenTCP']>().returns.toEqualTypeOf<FakeListeningPort>();
expectTypeOf<MemoryReactor['connectTCP']>().returns.toEqualTypeOf<FakeConnector>();
