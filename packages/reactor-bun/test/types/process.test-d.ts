// Type-level tests for src/internal/bun-process-transport.ts: BunReactor runs
// child processes (IReactorProcess), its process transport is built on the
// kit's BaseProcessTransport, and each pipe is the kit's StreamTransport.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type { IProcessTransport, IReactorProcess, IStreamTransport } from '@torsion/core';
import type { BaseProcessTransport, StreamTransport } from '@torsion/core/reactor-kit';
import { expectTypeOf } from 'expect-type';

import type { BunReactor } from '../../src/bun-reactor.js';
import type { BunProcessTransport } from '../../src/internal/bun-process-transport.js';

expectTypeOf<BunReactor>().toExtend<IReactorProcess>();
expectTypeOf<BunReactor['spawnProcess']>().returns.toEqualTypeOf<IProcessTransport>();
expectTypeOf<BunProcessTransport>().toExtend<BaseProcessTransport>();
expectTypeOf<StreamTransport<never>>().toExtend<IStreamTransport>();
