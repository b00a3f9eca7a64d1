// Type-level tests for src/bun-reactor.ts: the Bun reactor is a whole IReactor,
// as NodeReactor and SimulatedReactor are (packages/core/test/types/).
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type { IReactor, IReactorCore, IReactorTCP, IReactorTime } from '@torsion/core';
import type { ReactorBase } from '@torsion/core/reactor-kit';
import { expectTypeOf } from 'expect-type';

import type { BunReactor } from '../../src/bun-reactor.js';

expectTypeOf<BunReactor>().toExtend<IReactor>();
expectTypeOf<BunReactor>().toExtend<IReactorCore & IReactorTime & IReactorTCP>();
expectTypeOf<BunReactor>().toExtend<ReactorBase>();
