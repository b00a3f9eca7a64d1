// Type-level tests for src/process/: every reactor and double spawns
// processes (IReactorProcess), the transports are process transports, the
// base class is a process protocol, and the reasons are the stream reasons
// (ProcessDone a ConnectionDone, ProcessTerminated a ConnectionLost).
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import { expectTypeOf } from 'expect-type';
import type { ConnectionDone, ConnectionLost } from '../../src/errors.js';
import type {
  IConsumer,
  IProcessProtocol,
  IProcessTransport,
  IPushProducer,
  IReactorProcess,
} from '../../src/interfaces.js';
import type { NodeReactor } from '../../src/node-reactor.js';
import type {
  ProcessAddress,
  ProcessDone,
  ProcessProtocol,
  ProcessSpawnError,
  ProcessTerminated,
} from '../../src/process/index.js';
import type { Deferred } from '../../src/deferred.js';
import type { getProcessOutput, getProcessValue } from '../../src/process/index.js';
import type { BaseProcessTransport } from '../../src/reactor-kit/index.js';
import type {
  FakeProcessTransport,
  MemoryReactor,
  RecordingProcessProtocol,
  SimulatedReactor,
} from '../../src/testing/index.js';

expectTypeOf<NodeReactor>().toExtend<IReactorProcess>();
expectTypeOf<SimulatedReactor>().toExtend<IReactorProcess>();
expectTypeOf<MemoryReactor>().toExtend<IReactorProcess>();
expectTypeOf<ReturnType<NodeReactor['spawnProcess']>>().toEqualTypeOf<IProcessTransport>();
expectTypeOf<ReturnType<MemoryReactor['spawnProcess']>>().toEqualTypeOf<FakeProcessTransport>();

expectTypeOf<IProcessTransport>().toExtend<IConsumer>();
expectTypeOf<IProcessTransport>().toExtend<IPushProducer>();
expectTypeOf<ReturnType<IProcessTransport['getPeer']>>().toEqualTypeOf<ProcessAddress>();
expectTypeOf<IProcessTransport['pid']>().toEqualTypeOf<number | null>();
expectTypeOf<BaseProcessTransport>().toExtend<IProcessTransport>();
expectTypeOf<FakeProcessTransport>().toExtend<BaseProcessTransport>();

expectTypeOf<ProcessProtocol>().toExtend<IProcessProtocol>();
expectTypeOf<RecordingProcessProtocol>().toExtend<ProcessProtocol>();

expectTypeOf<ProcessDone>().toExtend<ConnectionDone>();
expectTypeOf<ProcessTerminated>().toExtend<ConnectionLost>();
expectTypeOf<ProcessSpawnError>().toExtend<ConnectionLost>();
expectTypeOf<ProcessTerminated['exitCode']>().toEqualTypeOf<number | null>();

expectTypeOf<ReturnType<typeof getProcessOutput>>().toEqualTypeOf<Deferred<Buffer>>();
expectTypeOf<ReturnType<typeof getProcessValue>>().toEqualTypeOf<Deferred<number>>();
