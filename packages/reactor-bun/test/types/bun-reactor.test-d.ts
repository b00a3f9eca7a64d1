// Type-level tests for src/bun-reactor.ts: the Bun reactor is a whole IReactor,
// as NodeReactor and SimulatedReactor are (packages/core/test/types/), and
// speaks TLS (ITLSReactor): listenSSL returns a port whose certificates can be
// replaced. Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type {
  IReactor,
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  ISSLListeningPort,
  ITLSReactor,
} from '@torsion/core';
import type { ReactorBase } from '@torsion/core/reactor-kit';
import { expectTypeOf } from 'expect-type';

import type { BunReactor } from '../../src/bun-reactor.js';

expectTypeOf<BunReactor>().toExtend<IReactor>();
expectTypeOf<BunReactor>().toExtend<IReactorCore & IReactorTime & IReactorTCP>();
expectTypeOf<BunReactor>().toExtend<ReactorBase>();
expectTypeOf<BunReactor>().toExtend<ITLSReactor>();
expectTypeOf<BunReactor>().toExtend<IReactorSSL>();
expectTypeOf<ReturnType<BunReactor['listenSSL']>>().toEqualTypeOf<ISSLListeningPort>();
