// Tests for src/testing/log-capture.ts: capturing log events in tests.
import { expect } from 'chai';

import { Logger } from '../../src/log.js';
import { LogCapture } from '../../src/testing/log-capture.js';

const log = new Logger('test.log-capture');

describe('LogCapture', () => {
  let logs: LogCapture | null = null;

  afterEach(() => {
    logs?.stop();
    logs = null;
  });

  it('records events logged after start(), in order', () => {
    log.info('before');
    logs = LogCapture.start();
    log.info('one', { n: 1 });
    log.warn('two');
    expect(logs.events.map((e) => [e.level, e.message])).to.deep.equal([
      ['info', 'one'],
      ['warn', 'two'],
    ]);
    expect(logs.events[0]!.fields).to.deep.equal({ n: 1 });
    expect(logs.events[0]!.namespace).to.equal('test.log-capture');
  });

  it('failures() returns each logged error with its traceback', () => {
    logs = LogCapture.start();
    log.info('not a failure');
    log.failure('it broke', new RangeError('bad range'));
    const failures = logs.failures();
    expect(failures).to.have.length(1);
    expect(failures[0]!.check(RangeError)).to.equal(RangeError);
    expect(failures[0]!.getTraceback()).to.match(/RangeError: bad range\n\s+at /);
  });

  it('messages() lists messages, optionally from a minimum level up', () => {
    logs = LogCapture.start();
    log.debug('d');
    log.info('i');
    log.error('e');
    log.critical('c');
    expect(logs.messages()).to.deep.equal(['d', 'i', 'e', 'c']);
    expect(logs.messages('error')).to.deep.equal(['e', 'c']);
  });

  it('stop() ends capturing but keeps what was captured', () => {
    logs = LogCapture.start();
    log.info('kept');
    logs.stop();
    logs.stop();
    log.info('ignored');
    expect(logs.capturing).to.equal(false);
    expect(logs.messages()).to.deep.equal(['kept']);
  });

  it('clear() forgets captured events and keeps capturing', () => {
    logs = LogCapture.start();
    log.info('old');
    logs.clear();
    log.info('new');
    expect(logs.messages()).to.deep.equal(['new']);
  });
});
