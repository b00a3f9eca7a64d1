// A Torsion error thrown in a worker comes back on the main thread as an
// instance of its class, so `failure.check(ConnectError)` works on it; any
// other error keeps its built-in class, or its name, code and stack.
import { expect } from 'chai';
import {
  CannotListenError,
  ConnectError,
  ConnectionLost,
  ConnectionRefusedError,
  NodeReactor,
  TorsionError,
  type Failure,
} from '@torsion/core';
import { ThreadPool } from '../src/index.js';

const ERRORS = new URL('./fixtures/errors.mjs', import.meta.url);

describe('errors thrown in a worker', function () {
  this.timeout(10_000);
  let reactor: NodeReactor;
  let pool: ThreadPool;

  before(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    pool = new ThreadPool({ reactor, maxThreads: 1 });
  });

  after(async () => {
    await pool.stop();
  });

  async function failureOf(exportName: string, ...args: unknown[]): Promise<Failure> {
    let failure: Failure | null = null;
    await pool.deferToThread(ERRORS, exportName, ...args).addErrback((f: Failure) => {
      failure = f;
    });
    expect(failure, `${exportName} should fail`).to.not.equal(null);
    return failure as unknown as Failure;
  }

  it('rebuilds a ConnectionRefusedError as one: check(ConnectError) matches', async () => {
    const failure = await failureOf('refused');
    expect(failure.check(ConnectError)).to.equal(ConnectError);
    expect(failure.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect(failure.value).to.be.instanceOf(TorsionError);
    expect(failure.value.name).to.equal('ConnectionRefusedError');
    expect(failure.value).to.have.property('code', 'TORSION_ERR_CONNECTION_REFUSED');
    expect(failure.getErrorMessage()).to.equal('Connection was refused by the other side.');
    expect(failure.value.stack).to.match(/at refused \(.*errors\.mjs:\d+:\d+\)/);
  });

  it('keeps a plain TypeError a TypeError, with its message and stack', async () => {
    const failure = await failureOf('plainTypeError', 'not a number');
    expect(failure.check(TypeError)).to.equal(TypeError);
    expect(failure.check(TorsionError)).to.equal(null);
    expect(failure.value.constructor).to.equal(TypeError);
    expect(failure.getErrorMessage()).to.equal('not a number');
    expect(failure.value.stack).to.match(/at plainTypeError/);
  });

  it("keeps a Torsion error's own fields and its cause", async () => {
    const failure = await failureOf('cannotListen');
    const value = failure.value;
    expect(value).to.be.instanceOf(CannotListenError);
    expect(value).to.include({ interface: '127.0.0.1', port: 8123 });
    expect(value.message).to.equal('Could not listen on 127.0.0.1:8123: listen EADDRINUSE');
    expect(value.cause).to.be.instanceOf(Error);
    expect(value.cause).to.have.property('code', 'EADDRINUSE');
  });

  it('rebuilds a subclass of your own as its nearest Torsion class, keeping its name', async () => {
    const failure = await failureOf('ownSubclass');
    expect(failure.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect(failure.value.name).to.equal('QuotaRefused');
    expect(failure.value).to.have.property('quota', 3);
    expect(failure.getErrorMessage()).to.equal('Over quota.');
  });

  it('rebuilds a Torsion cause as its class too', async () => {
    const failure = await failureOf('lostWithTorsionCause');
    expect(failure.check(ConnectionLost)).to.equal(ConnectionLost);
    expect(failure.value.cause).to.be.instanceOf(ConnectionRefusedError);
    expect((failure.value.cause as Error).message).to.equal('inner');
  });
});
