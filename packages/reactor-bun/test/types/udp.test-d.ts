// Type-level tests for src/internal/bun-udp-port.ts: BunReactor has UDP
// (IReactorUDP), and its port is a UDP port and transport built on the kit's
// BaseUDPPort. Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type { IReactorUDP, IUDPPort, IUDPTransport } from '@torsion/core';
import type { BaseUDPPort } from '@torsion/core/reactor-kit';
import { expectTypeOf } from 'expect-type';

import type { BunReactor } from '../../src/bun-reactor.js';
import type { BunUDPPort } from '../../src/internal/bun-udp-port.js';

expectTypeOf<BunReactor>().toExtend<IReactorUDP>();
expectTypeOf<BunReactor['listenUDP']>().returns.toEqualTypeOf<IUDPPort>();
expectTypeOf<BunUDPPort>().toExtend<BaseUDPPort>();
expectTypeOf<BunUDPPort>().toExtend<IUDPPort & IUDPTransport>();
