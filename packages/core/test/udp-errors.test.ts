// The UDP error classes of errors.ts: codes, fields and messages.
import { expect } from 'chai';
import {
  InvalidAddressError,
  MessageLengthError,
  TorsionError,
  UDPAlreadyConnectedError,
  UDPNotListeningError,
} from '../src/errors.js';

describe('UDP errors', () => {
  it('have stable codes and are TorsionErrors', () => {
    expect(
      [
        new MessageLengthError(70_000, 65_507),
        new InvalidAddressError('localhost', 'not an address'),
        new UDPNotListeningError('write()'),
        new UDPAlreadyConnectedError('127.0.0.1:9'),
      ].map((e) => [e.name, e.code, e instanceof TorsionError]),
    ).to.deep.equal([
      ['MessageLengthError', 'TORSION_ERR_MESSAGE_LENGTH', true],
      ['InvalidAddressError', 'TORSION_ERR_INVALID_ADDRESS', true],
      ['UDPNotListeningError', 'TORSION_ERR_UDP_NOT_LISTENING', true],
      ['UDPAlreadyConnectedError', 'TORSION_ERR_UDP_ALREADY_CONNECTED', true],
    ]);
  });

  it('MessageLengthError carries both lengths; without a known limit it says less', () => {
    const error = new MessageLengthError(70_000, 65_507);
    expect([error.length, error.maxLength]).to.deep.equal([70_000, 65_507]);
    expect(error.message).to.equal(
      'A datagram of 70000 bytes is too long to send, more than the 65507 bytes allowed',
    );
    const cause = Object.assign(new Error('send EMSGSIZE'), { code: 'EMSGSIZE' });
    const reported = new MessageLengthError(0, 0, { cause });
    expect(reported.message).to.equal('A datagram is too long to send');
    expect(reported.cause).to.equal(cause);
  });

  it('InvalidAddressError names the address it refused, when there is one', () => {
    expect(new InvalidAddressError('example.com', 'not an IP').message).to.equal(
      'example.com: not an IP',
    );
    const none = new InvalidAddressError('', 'needs an address');
    expect([none.address, none.message]).to.deep.equal(['', 'needs an address']);
  });
});
