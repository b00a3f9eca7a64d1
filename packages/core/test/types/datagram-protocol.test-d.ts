import type { IDatagramProtocol, IReactorUDP, IUDPPort, IUDPTransport } from '@torsion/core';
import { DatagramProtocol, NodeReactor } from '@torsion/core';
import type { FakeUDPPort, MemoryReactor } from '@torsion/core/testing';
import { expectTypeOf } from 'expect-type';

expectTypeOf<DatagramProtocol>().toExtend<IDatagramProtocol>();
expectTypeOf<DatagramProtocol['transport']>().toEqualTypeOf<IUDPTransport>();
expectTypeOf<NodeReactor>().toExtend<IReactorUDP>();
expectTypeOf<NodeReactor['listenUDP']>().returns.toEqualTypeOf<IUDPPort>();
expectTypeOf<MemoryReactor>().toExtend<IReactorUDP>();
expectTypeOf<FakeUDPPort>().toExtend<IUDPPort>();
expectTypeOf<FakeUDPPort>().toExtend<IUDPTransport>();

// The simulated reactor and each of its hosts have UDP too.
expectTypeOf<import('@torsion/core/testing').SimulatedReactor>().toExtend<IReactorUDP>();
expectTypeOf<import('@torsion/core/testing').SimulatedHost>().toExtend<IReactorUDP>();
expectTypeOf<import('@torsion/core/testing').SimulatedUDPPort>().toExtend<IUDPPort>();
