// Type-level tests for src/echo.ts, src/line-echo.ts and src/plugin.ts: the
// echo protocols and factories fit the interfaces the reactors and the runner
// take, and Echo is half-closeable.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type {
  IHalfCloseableProtocol,
  IProtocol,
  IProtocolFactory,
  IServiceMaker,
} from '@torsion/core';
import { expectTypeOf } from 'expect-type';

import type { Echo, EchoFactory } from '../../src/echo.js';
import type { LineEcho, LineEchoFactory } from '../../src/line-echo.js';
import type plugin from '../../src/plugin.js';

expectTypeOf<Echo>().toExtend<IProtocol & IHalfCloseableProtocol>();
expectTypeOf<LineEcho>().toExtend<IProtocol>();
expectTypeOf<EchoFactory>().toExtend<IProtocolFactory>();
expectTypeOf<LineEchoFactory>().toExtend<IProtocolFactory>();
expectTypeOf<typeof plugin>().toExtend<IServiceMaker>();

// The UDP echo is a datagram protocol, and the plugin makes one.
expectTypeOf<import('../../src/udp-echo.js').DatagramEcho>().toExtend<
  import('@torsion/core').IDatagramProtocol
>();
