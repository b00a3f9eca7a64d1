// DeferredList and gatherResults: waiting for several Deferreds, first
// success/failure modes, consumeErrors, cancellation.
import { expect } from 'chai';
import { Deferred, fail, reportUnhandledFailures, succeed } from '../src/deferred.js';
import { DeferredList, FirstError, gatherResults } from '../src/deferred-list.js';
import { CancelledError, TorsionError } from '../src/errors.js';
import { Failure } from '../src/failure.js';
import { addLogObserver, type LogEvent } from '../src/log.js';

/** Records what the Deferred delivers. */
function recorder(d: Deferred): unknown[] {
  const seen: unknown[] = [];
  d.addCallbacks(
    (r) => {
      seen.push(r);
      return r;
    },
    (f) => {
      seen.push(f);
      return null;
    },
  );
  return seen;
}

function firstErrorOf(value: unknown): FirstError {
  expect(value).to.be.instanceOf(Failure);
  const error = (value as Failure).value;
  if (!(error instanceof FirstError)) throw new Error(`expected a FirstError, got ${error.name}`);
  return error;
}

describe('DeferredList', () => {
  let removeObserver: (() => void) | null = null;

  afterEach(() => {
    removeObserver?.();
    removeObserver = null;
  });

  it('fires once all inputs have fired, with [success, result] entries in input order', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const err = new Error('b failed');
    const seen = recorder(new DeferredList([a, b]));
    b.errback(err);
    expect(seen).to.deep.equal([]);
    a.callback('a');
    expect(seen).to.have.length(1);
    const entries = seen[0] as [boolean, unknown][];
    expect(entries[0]).to.deep.equal([true, 'a']);
    expect(entries[1]![0]).to.equal(false);
    expect((entries[1]![1] as Failure).value).to.equal(err);
  });

  it('fires at once when every input has already fired', () => {
    const seen = recorder(new DeferredList([succeed(1), succeed(2)]));
    expect(seen).to.deep.equal([
      [
        [true, 1],
        [true, 2],
      ],
    ]);
  });

  it('fires at once with [] for an empty list, with or without fireOnOneCallback', () => {
    expect(recorder(new DeferredList([]))).to.deep.equal([[]]);
    expect(recorder(new DeferredList([], { fireOnOneCallback: true }))).to.deep.equal([[]]);
  });

  it("leaves each input's result in its own chain", () => {
    const a = new Deferred<number>();
    new DeferredList([a]);
    a.callback(4);
    expect(recorder(a)).to.deep.equal([4]);
  });

  it('fireOnOneCallback: fires with [result, index] of the first success', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const seen = recorder(new DeferredList([a, b], { fireOnOneCallback: true }));
    b.callback('second');
    expect(seen).to.deep.equal([['second', 1]]);
    a.callback('first');
    expect(seen).to.have.length(1);
  });

  it('fireOnOneCallback: fires with all entries when every input fails', () => {
    const a = new Deferred<string>();
    const seen = recorder(new DeferredList([a], { fireOnOneCallback: true, consumeErrors: true }));
    a.errback(new Error('x'));
    const entries = seen[0] as [boolean, unknown][];
    expect(entries).to.have.length(1);
    expect(entries[0]![0]).to.equal(false);
  });

  it('fireOnOneErrback: fails with FirstError carrying the failure and index', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const err = new RangeError('b');
    const seen = recorder(
      new DeferredList([a, b], { fireOnOneErrback: true, consumeErrors: true }),
    );
    b.errback(err);
    const first = firstErrorOf(seen[0]);
    expect(first.index).to.equal(1);
    expect(first.subFailure.value).to.equal(err);
    expect(first.cause).to.equal(err);
    expect(first.code).to.equal('TORSION_ERR_FIRST_ERROR');
    expect(first).to.be.instanceOf(TorsionError);
    expect(first.message).to.contain('#1');
    a.callback(1);
    expect(seen).to.have.length(1);
  });

  it('consumeErrors: turns input failures into null in their own chains', () => {
    const err = new Error('consumed');
    const input = new Deferred<number>();
    new DeferredList([input], { consumeErrors: true });
    input.errback(err);
    expect(recorder(input)).to.deep.equal([null]);
  });

  it('without consumeErrors: input failures stay in their chains and are reported if unhandled', () => {
    const err = new Error('kept in input');
    const events: LogEvent[] = [];
    removeObserver = addLogObserver((e) => {
      if ((e.fields.failure as Failure | undefined)?.value === err) events.push(e);
    });
    const input = new Deferred<number>();
    recorder(new DeferredList([input]));
    input.errback(err);
    reportUnhandledFailures();
    expect(events).to.have.length(1);
  });

  it('cancel() cancels every input that has not fired', () => {
    const cancelled: number[] = [];
    const a = new Deferred<number>(() => cancelled.push(0));
    const b = new Deferred<number>(() => cancelled.push(1));
    const done = succeed(2);
    const list = new DeferredList([a, b, done], { consumeErrors: true });
    const seen = recorder(list);
    list.cancel();
    expect(cancelled).to.deep.equal([0, 1]);
    const entries = seen[0] as [boolean, unknown][];
    expect((entries[0]![1] as Failure).check(CancelledError)).to.equal(CancelledError);
    expect(entries[2]).to.deep.equal([true, 2]);
  });

  it('cancel() cancels the list itself when an input ignores its cancellation', () => {
    // The canceller pauses the input, so the input's CancelledError never reaches
    // the list: the list must cancel itself.
    const stubborn = new Deferred<number>((d) => {
      d.pause();
    });
    const list = new DeferredList([stubborn]);
    const seen = recorder(list);
    list.cancel();
    expect((seen[0] as Failure).check(CancelledError)).to.equal(CancelledError);
  });

  it('cancel() after the list fired does nothing', () => {
    let cancels = 0;
    const a = new Deferred<number>(() => (cancels += 1));
    const list = new DeferredList([a], { fireOnOneCallback: true });
    a.callback(1);
    list.cancel();
    expect(cancels).to.equal(0);
    expect(recorder(list)).to.deep.equal([[1, 0]]);
  });
});

describe('gatherResults', () => {
  it('fires with the results in input order', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const seen = recorder(gatherResults([a, b]));
    b.callback(2);
    a.callback(1);
    expect(seen).to.deep.equal([[1, 2]]);
  });

  it('fires at once with [] for an empty list', () => {
    expect(recorder(gatherResults([]))).to.deep.equal([[]]);
  });

  it('fails with FirstError on the first failure', () => {
    const err = new Error('second input');
    const seen = recorder(gatherResults([new Deferred<number>(), fail<number>(err)], true));
    const first = firstErrorOf(seen[0]);
    expect(first.index).to.equal(1);
    expect(first.subFailure.value).to.equal(err);
  });

  it('is cancellable: cancelling it cancels every input', () => {
    const cancelled: string[] = [];
    const a = new Deferred<number>(() => cancelled.push('a'));
    const b = new Deferred<number>(() => cancelled.push('b'));
    const gathered = gatherResults([a, b], true);
    const seen = recorder(gathered);
    gathered.cancel();
    expect(cancelled).to.deep.equal(['a', 'b']);
    const first = firstErrorOf(seen[0]);
    expect(first.subFailure.check(CancelledError)).to.equal(CancelledError);
  });

  it('works with await', async () => {
    expect(await gatherResults([succeed('x'), succeed('y')])).to.deep.equal(['x', 'y']);
  });
});
