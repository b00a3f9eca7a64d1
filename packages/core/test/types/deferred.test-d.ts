// Type-level tests for src/deferred.ts and src/failure.ts: what TypeScript
// infers along a callback chain, and what Failure.check and trap return.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import { expectTypeOf } from 'expect-type';

import { Deferred, fail, maybeDeferred, succeed } from '../../src/deferred.js';
import { ConnectionDone, ConnectionLost } from '../../src/errors.js';
import type { Failure } from '../../src/failure.js';

declare const numbers: Deferred<number>;
declare const failure: Failure;

// Each callback's return type becomes the chain's result type.
expectTypeOf(numbers.addCallback((n) => String(n))).toEqualTypeOf<Deferred<string>>();
expectTypeOf(numbers.addCallback((n, unit: string) => `${n} ${unit}`, 's')).toEqualTypeOf<
  Deferred<string>
>();
// A callback that returns a Deferred or a Promise pauses the chain: its result type is unwrapped.
expectTypeOf(numbers.addCallback(() => succeed(true))).toEqualTypeOf<Deferred<boolean>>();
expectTypeOf(numbers.addCallback(() => Promise.resolve('x'))).toEqualTypeOf<Deferred<string>>();
// An errback may resume with a value, which widens the result; returning the Failure does not.
expectTypeOf(numbers.addErrback(() => 'fallback')).toEqualTypeOf<Deferred<number | string>>();
expectTypeOf(numbers.addErrback((f: Failure) => f)).toEqualTypeOf<Deferred<number>>();
expectTypeOf(numbers.addBoth((r) => r)).toEqualTypeOf<Deferred<number>>();
expectTypeOf(
  numbers.addCallbacks(
    (n) => n > 0,
    () => null,
  ),
).toEqualTypeOf<Deferred<boolean | null>>();
// The callback sees the result type; the errback sees a Failure.
numbers.addCallback((n) => expectTypeOf(n).toEqualTypeOf<number>());
numbers.addErrback((f) => expectTypeOf(f).toEqualTypeOf<Failure>());
// A Deferred is awaitable as its result type.
expectTypeOf<Awaited<Deferred<number>>>().toEqualTypeOf<number>();
expectTypeOf<Deferred<number>>().toExtend<PromiseLike<number>>();
// Covariant, as Promise is.
expectTypeOf<Deferred<undefined>>().toExtend<Deferred<void>>();
expectTypeOf<Deferred<string>>().not.toExtend<Deferred<number>>();

expectTypeOf(succeed(42)).toEqualTypeOf<Deferred<number>>();
expectTypeOf(fail(new Error('no'))).toEqualTypeOf<Deferred<never>>();
expectTypeOf(maybeDeferred((s: string) => s.length, 'abc')).toEqualTypeOf<Deferred<number>>();
expectTypeOf(maybeDeferred(() => succeed('x'))).toEqualTypeOf<Deferred<string>>();
expectTypeOf(Deferred.fromPromise(Promise.resolve(1n))).toEqualTypeOf<Deferred<bigint>>();
expectTypeOf<Deferred['callback']>().parameter(0).toEqualTypeOf<unknown>();

// check() narrows to the classes it was given, or null; trap() to the classes.
expectTypeOf(failure.check(ConnectionDone)).toEqualTypeOf<typeof ConnectionDone | null>();
expectTypeOf(failure.check(ConnectionDone, ConnectionLost)).toEqualTypeOf<
  typeof ConnectionDone | typeof ConnectionLost | null
>();
expectTypeOf(failure.trap(ConnectionLost)).toEqualTypeOf<typeof ConnectionLost>();
expectTypeOf(failure.value).toEqualTypeOf<Error>();
