// The argument checks every reactor and test double shares: each rejects a
// wrong type with a TypeError and a value out of range with a RangeError, and
// fills in the documented defaults.
import { expect } from 'chai';
import {
  checkConnectTCP,
  checkKeepAliveDelay,
  checkListenTCP,
  checkPort,
  checkInteger,
  checkSeconds,
  checkWriteHighWaterMark,
  checkWriteSequence,
} from '../../src/reactor-kit/argument-checks.js';

const factory = { buildProtocol: () => null };

describe('argument checks', () => {
  it('accepts ports from min to 65535 and rejects the rest with a RangeError', () => {
    expect(() => {
      checkPort(0, 0);
    }).not.to.throw();
    expect(() => {
      checkPort(65535, 1);
    }).not.to.throw();
    for (const bad of [-1, 65536, 1.5, Number.NaN, '80']) {
      expect(() => {
        checkPort(bad, 0);
      }).to.throw(RangeError, /port/);
    }
    expect(() => {
      checkPort(0, 1);
    }).to.throw(RangeError, /from 1 to 65535/);
  });

  it('accepts Infinity seconds and rejects negative or NaN durations', () => {
    expect(() => {
      checkSeconds(Infinity, 'timeout', false);
    }).not.to.throw();
    expect(() => {
      checkSeconds(0, 'timeout', false);
    }).to.throw(RangeError, /timeout must be a number of seconds > 0/);
    expect(() => {
      checkSeconds(-1, 'delay', true);
    }).to.throw(RangeError, />= 0/);
    expect(() => {
      checkSeconds(Number.NaN, 'delay', true);
    }).to.throw(RangeError);
  });

  it('refuses Infinity seconds where a duration must end', () => {
    expect(() => {
      checkSeconds(Infinity, 'idleTimeout', false, true);
    }).to.throw(RangeError, /idleTimeout must be a finite number of seconds > 0, got Infinity/);
    expect(() => {
      checkSeconds(5, 'idleTimeout', false, true);
    }).not.to.throw();
  });

  it('accepts integers within bounds and names the range of the rest', () => {
    expect(() => {
      checkInteger(1, 'size', 1);
    }).not.to.throw();
    expect(() => {
      checkInteger(0, 'size', 1);
    }).to.throw(RangeError, /size must be an integer >= 1, got 0/);
    expect(() => {
      checkInteger(1.5, 'port', 1, 65535);
    }).to.throw(RangeError, /port must be an integer from 1 to 65535, got 1.5/);
    expect(() => {
      checkInteger('3', 'count', 0);
    }).to.throw(RangeError);
  });

  it('fills in the listenTCP and connectTCP defaults', () => {
    expect(checkListenTCP(0, factory)).to.deep.equal({ backlog: 4096, iface: '' });
    expect(checkConnectTCP('h', 1, factory)).to.deep.equal({ timeout: 30 });
  });

  it('rejects a factory without buildProtocol with a TypeError naming it', () => {
    expect(() => checkListenTCP(0, {})).to.throw(TypeError, /buildProtocol/);
    expect(() => checkConnectTCP('', 1, factory)).to.throw(TypeError, /host/);
  });

  it('rejects a negative, fractional or infinite keep-alive delay and high-water mark', () => {
    for (const bad of [-1, Infinity, Number.NaN]) {
      expect(() => {
        checkKeepAliveDelay(bad);
      }).to.throw(RangeError, /setTcpKeepAlive/);
    }
    expect(checkWriteHighWaterMark(0)).to.equal(0);
    expect(() => checkWriteHighWaterMark(1.5)).to.throw(RangeError, /writeHighWaterMark/);
  });

  it('checks every writeSequence item before any is written', () => {
    expect(() => checkWriteSequence(['a', 1 as unknown as string])).to.throw(TypeError, /number/);
  });
});
