// Type-level tests for src/node-reactor.ts and src/reactor-kit/: the Node
// reactor is a whole IReactor and speaks TLS (ITLSReactor, whose listenSSL
// returns an ISSLListeningPort), and the reactor kit's bases implement the
// interfaces a reactor built on them hands out. The Bun reactor's own check is
// in packages/reactor-bun/test/types/; SimulatedReactor's is in doubles.test-d.ts.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import { expectTypeOf } from 'expect-type';

import { getReactor } from '../../src/default-reactor.js';
import type {
  IConnector,
  IListeningPort,
  IReactor,
  IReactorCore,
  IReactorSSL,
  IReactorTime,
  ISSLListeningPort,
  ITCPTransport,
  ITLSReactor,
  ITLSTransport,
} from '../../src/interfaces.js';
import type { NodeReactor } from '../../src/node-reactor.js';
import type {
  BaseConnector,
  BasePort,
  BaseTransport,
  ReactorBase,
} from '../../src/reactor-kit/index.js';

expectTypeOf<NodeReactor>().toExtend<IReactor>();
expectTypeOf<NodeReactor>().toExtend<ITLSReactor>();
expectTypeOf<NodeReactor>().toExtend<IReactorSSL>();
expectTypeOf<NodeReactor['listenSSL']>().returns.toEqualTypeOf<ISSLListeningPort>();
expectTypeOf<NodeReactor['connectSSL']>().returns.toEqualTypeOf<IConnector>();
// A plain IReactor need not speak TLS.
expectTypeOf<IReactor>().not.toExtend<IReactorSSL>();
expectTypeOf(getReactor).returns.toExtend<IReactor>();

// ReactorBase brings lifecycle and time; each reactor adds TCP.
expectTypeOf<ReactorBase>().toExtend<IReactorCore & IReactorTime>();
expectTypeOf<BaseTransport>().toExtend<ITCPTransport>();
expectTypeOf<BaseTransport>().toExtend<ITLSTransport>();
expectTypeOf<BasePort>().toExtend<IListeningPort>();
expectTypeOf<BaseConnector>().toExtend<IConnector>();
