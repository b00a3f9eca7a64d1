import { expect } from 'chai';
import * as errors from '../src/errors.js';
import { Failure } from '../src/failure.js';

const {
  AlreadyCalledError,
  AlreadyCancelledError,
  CancelledError,
  CannotListenError,
  ConnectBindError,
  ConnectError,
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DeferredTimeoutError,
  DNSLookupError,
  NoRouteError,
  TCPTimedOutError,
  TimeoutError,
  UserError,
} = errors;

/**
 * An instance of an error class with the message 'x'. TLSError takes its code
 * first (one class, several reasons); every other class has one fixed code.
 */
function example(ErrorClass: typeof errors.TorsionError): errors.TorsionError {
  if ((ErrorClass as unknown) === errors.TLSError) {
    return new errors.TLSError('TORSION_ERR_TLS_HANDSHAKE_FAILED', 'x');
  }
  return new ErrorClass('x');
}

describe('errors', () => {
  it('every error class has a distinct stable code and its own name', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof errors.TorsionError =>
        typeof value === 'function' && value.prototype instanceof Error,
    );
    const codes = classes.map((ErrorClass) => example(ErrorClass).code);
    expect(new Set(codes).size).to.equal(classes.length);
    for (const ErrorClass of classes) {
      const instance = example(ErrorClass);
      expect(instance.name).to.equal(ErrorClass.name);
      expect(instance.code).to.match(/^TORSION_ERR/);
    }
  });

  it('clean and unclean closes share ConnectionClosed', () => {
    expect(new ConnectionDone()).to.be.instanceOf(ConnectionClosed);
    expect(new ConnectionLost()).to.be.instanceOf(ConnectionClosed);
    expect(new ConnectionAborted()).to.be.instanceOf(ConnectionLost);
    expect(new ConnectionDone()).not.to.be.instanceOf(ConnectionLost);
  });

  it('pins the codes: they never change', () => {
    const codes = Object.fromEntries(
      Object.values(errors)
        .filter(
          (value): value is typeof errors.TorsionError =>
            typeof value === 'function' && value.prototype instanceof Error,
        )
        .map((ErrorClass) => [ErrorClass.name, example(ErrorClass).code]),
    );
    expect(codes).to.deep.include({
      TorsionError: 'TORSION_ERR',
      ConnectionClosed: 'TORSION_ERR_CONNECTION_CLOSED',
      ConnectionDone: 'TORSION_ERR_CONNECTION_DONE',
      ConnectionLost: 'TORSION_ERR_CONNECTION_LOST',
      ConnectionAborted: 'TORSION_ERR_CONNECTION_ABORTED',
      ConnectError: 'TORSION_ERR_CONNECT',
      ConnectionRefusedError: 'TORSION_ERR_CONNECTION_REFUSED',
      DNSLookupError: 'TORSION_ERR_DNS_LOOKUP',
      ConnectBindError: 'TORSION_ERR_CONNECT_BIND',
      NoRouteError: 'TORSION_ERR_NO_ROUTE',
      TCPTimedOutError: 'TORSION_ERR_TCP_TIMED_OUT',
      UserError: 'TORSION_ERR_USER',
      TimeoutError: 'TORSION_ERR_TIMEOUT',
      DeferredTimeoutError: 'TORSION_ERR_DEFERRED_TIMEOUT',
      CannotListenError: 'TORSION_ERR_CANNOT_LISTEN',
      AlreadyCalledError: 'TORSION_ERR_ALREADY_CALLED',
      AlreadyCancelledError: 'TORSION_ERR_ALREADY_CANCELLED',
      CancelledError: 'TORSION_ERR_CANCELLED',
      ReactorAlreadyRunning: 'TORSION_ERR_REACTOR_ALREADY_RUNNING',
      ReactorNotRunning: 'TORSION_ERR_REACTOR_NOT_RUNNING',
      ReactorNotRestartable: 'TORSION_ERR_REACTOR_NOT_RESTARTABLE',
      ReactorAlreadyInstalledError: 'TORSION_ERR_REACTOR_ALREADY_INSTALLED',
      NotConnectingError: 'TORSION_ERR_NOT_CONNECTING',
    });
  });

  it('a TLSError carries the code it was made with, and is a ConnectError', () => {
    const error = new errors.TLSError('TORSION_ERR_TLS_NOT_TLS', 'not TLS');
    expect(error.code).to.equal('TORSION_ERR_TLS_NOT_TLS');
    expect(error.name).to.equal('TLSError');
    expect(new Failure(error).check(ConnectError)).to.equal(ConnectError);
  });

  it('every reason a failed connect can have is a ConnectError, as docs/clients.md promises', () => {
    for (const error of [
      new ConnectionRefusedError(),
      new DNSLookupError('nope'),
      new ConnectBindError(),
      new NoRouteError(),
      new TCPTimedOutError(),
      new UserError(),
      new TimeoutError(),
    ]) {
      expect(new Failure(error).check(ConnectError), error.name).to.equal(ConnectError);
    }
  });

  it('a connect timeout is a TimeoutError, a UserError and a ConnectError, as in Twisted', () => {
    const reason = new Failure(new TimeoutError());
    expect(reason.check(TimeoutError)).to.equal(TimeoutError);
    expect(reason.check(UserError)).to.equal(UserError);
    expect(reason.check(ConnectError)).to.equal(ConnectError);
    // The system's own connect timeout is not this side's decision.
    expect(new Failure(new TCPTimedOutError()).check(TimeoutError, UserError)).to.equal(null);
  });

  it('a Deferred timeout is neither a TimeoutError nor a ConnectError', () => {
    const reason = new Failure(new DeferredTimeoutError());
    expect(reason.check(TimeoutError, ConnectError)).to.equal(null);
    expect(reason.check(errors.TorsionError)).to.equal(errors.TorsionError);
  });

  it('default messages read like Twisted', () => {
    expect(new ConnectionDone().message).to.equal('Connection was closed cleanly.');
    expect(new ConnectionLost().message).to.match(/non-clean/);
    expect(new TimeoutError().message).to.match(/timeout/i);
    expect(new CancelledError().message).to.match(/cancelled/);
    expect(new AlreadyCalledError('x').code).to.equal('TORSION_ERR_ALREADY_CALLED');
    expect(new AlreadyCancelledError('x').code).to.equal('TORSION_ERR_ALREADY_CANCELLED');
  });

  it('CannotListenError names the address and the underlying reason', () => {
    const cause = Object.assign(new Error('listen EADDRINUSE: address already in use'), {
      code: 'EADDRINUSE',
    });
    const error = new CannotListenError('127.0.0.1', 8007, { cause });
    expect(error.message).to.equal(
      'Could not listen on 127.0.0.1:8007: listen EADDRINUSE: address already in use',
    );
    expect(error.interface).to.equal('127.0.0.1');
    expect(error.port).to.equal(8007);
    expect(error.cause).to.equal(cause);
    expect(new CannotListenError('', 80).message).to.equal('Could not listen on *:80');
  });
});
