import { expect } from 'chai';
import * as errors from '../src/errors.js';

const {
  AlreadyCalledError,
  AlreadyCancelledError,
  CancelledError,
  CannotListenError,
  ConnectError,
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  TimeoutError,
} = errors;

describe('errors', () => {
  it('every error class has a distinct stable code and its own name', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof errors.TorsionError =>
        typeof value === 'function' && value.prototype instanceof Error,
    );
    const codes = classes.map((ErrorClass) => new ErrorClass('x').code);
    expect(new Set(codes).size).to.equal(classes.length);
    for (const ErrorClass of classes) {
      const instance = new ErrorClass('x');
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

  it('connect failures share ConnectError', () => {
    expect(new ConnectionRefusedError()).to.be.instanceOf(ConnectError);
    expect(new DNSLookupError('nope')).to.be.instanceOf(ConnectError);
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
