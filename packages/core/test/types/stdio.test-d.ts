// Type-level tests for src/stdio/: StandardIO is a whole stream transport
// (producer, consumer, half-close, abort) whose addresses are PipeAddresses,
// which are UNIX addresses, so code narrowing an IAddress keeps working.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type {
  IAddress,
  IStreamTransport,
  ITransport,
  PipeAddress,
  StandardIO,
  UNIXAddress,
} from '@torsion/core';
import type { BaseTransport, StreamTransport } from '@torsion/core/reactor-kit';
import { expectTypeOf } from 'expect-type';

expectTypeOf<StandardIO>().toExtend<IStreamTransport>();
expectTypeOf<StandardIO>().toExtend<ITransport>();
expectTypeOf<StandardIO>().toExtend<StreamTransport<PipeAddress>>();
expectTypeOf<StreamTransport<UNIXAddress>>().toExtend<BaseTransport<UNIXAddress>>();
expectTypeOf<PipeAddress>().toExtend<UNIXAddress>();
expectTypeOf<PipeAddress>().toExtend<IAddress>();
expectTypeOf<ReturnType<StandardIO['getPeer']>>().toEqualTypeOf<PipeAddress>();
