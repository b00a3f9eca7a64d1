import { expect } from 'chai';
import { ConnectionLost } from '../src/errors.js';
import { Failure } from '../src/failure.js';
import {
  addLogObserver,
  formatLogEvent,
  jsonFileObserver,
  Logger,
  publishLogEvent,
  setLogObservers,
  textFileObserver,
  type LogEvent,
} from '../src/log.js';

function collector(): { events: LogEvent[]; stop: () => void } {
  const events: LogEvent[] = [];
  const stop = addLogObserver((event) => events.push(event));
  return { events, stop };
}

function sink(): { text: string; write(chunk: string): void } {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

describe('log', () => {
  afterEach(() => setLogObservers([]));

  it('delivers structured events to observers', () => {
    const { events, stop } = collector();
    new Logger('torsion.test').info('listening', { port: 8007 });
    stop();
    expect(events).to.have.length(1);
    const [event] = events;
    expect(event).to.include({ level: 'info', namespace: 'torsion.test', message: 'listening' });
    expect(event?.fields).to.deep.equal({ port: 8007 });
    expect(event?.time).to.be.closeTo(Date.now() / 1000, 5);
  });

  it('a removed observer receives nothing more', () => {
    const { events, stop } = collector();
    stop();
    new Logger('x').warn('ignored');
    expect(events).to.deep.equal([]);
  });

  it('failure() attaches the error as a Failure with its traceback', () => {
    const { events, stop } = collector();
    new Logger('torsion.tcp').failure('protocol raised', new TypeError('bad'), { peer: 'a' });
    stop();
    const failure = events[0]?.fields.failure;
    expect(failure).to.be.instanceOf(Failure);
    expect((failure as Failure).value).to.be.instanceOf(TypeError);
    expect(events[0]?.level).to.equal('error');
    expect(events[0]?.fields.peer).to.equal('a');
  });

  it('an observer that throws does not stop the others', () => {
    const { events, stop } = collector();
    setLogObservers([
      () => {
        throw new Error('observer broke');
      },
      (event) => events.push(event),
    ]);
    const stderrWrite = process.stderr.write.bind(process.stderr);
    const reported: string[] = [];
    const capture = (chunk: string): boolean => reported.push(chunk) > 0;
    process.stderr.write = capture;
    try {
      new Logger('x').info('one');
      new Logger('x').info('two');
    } finally {
      process.stderr.write = stderrWrite;
    }
    stop();
    expect(events.map((e) => e.message)).to.deep.equal(['one', 'two']);
    expect(reported).to.have.length(1);
    expect(reported[0]).to.include('observer broke');
  });

  it('the text observer prints readable lines with fields and the traceback', () => {
    const out = sink();
    setLogObservers([textFileObserver(out)]);
    const log = new Logger('torsion.tcp');
    log.debug('hidden below info');
    log.failure('connection dropped', new ConnectionLost('reset'), {
      peer: '127.0.0.1:5',
      note: 'a b',
    });
    expect(out.text).not.to.include('hidden');
    expect(out.text).to.match(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z \[torsion\.tcp\] error: connection dropped peer=127\.0\.0\.1:5 note="a b"\n {4}ConnectionLost: reset\n/,
    );
  });

  it('formats non-string field values compactly', () => {
    const line = formatLogEvent({
      time: 0,
      level: 'info',
      namespace: 'n',
      message: 'm',
      fields: { n: 1, ok: true, nothing: null, list: [1, 2], big: 10n },
    });
    expect(line).to.equal(
      '1970-01-01T00:00:00.000Z [n] info: m n=1 ok=true nothing=null list=[1,2] big=10',
    );
  });

  it('the JSON observer writes one object per line, failures included', () => {
    const out = sink();
    setLogObservers([jsonFileObserver(out)]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    new Logger('torsion.json').failure('oops', new Error('bad'), { count: 3n, cyclic });
    const lines = out.text.trim().split('\n');
    expect(lines).to.have.length(1);
    const parsed = JSON.parse(lines[0] ?? '') as {
      level: string;
      namespace: string;
      fields: {
        count: string;
        cyclic: { self: string };
        failure: { type: string; message: string; traceback: string };
      };
    };
    expect(parsed.level).to.equal('error');
    expect(parsed.namespace).to.equal('torsion.json');
    expect(parsed.fields.count).to.equal('3');
    expect(parsed.fields.cyclic.self).to.equal('[Circular]');
    expect(parsed.fields.failure.type).to.equal('Error');
    expect(parsed.fields.failure.message).to.equal('bad');
    expect(parsed.fields.failure.traceback).to.include('Error: bad');
  });

  it('the text observer writes what a peer could use to drive a terminal as visible escapes (issue #9)', () => {
    // An error message quoting a peer's bytes reached stderr raw: ESC, CSI,
    // NEL and a bidi override from the message, a field and a traceback.
    const line = formatLogEvent({
      time: 0,
      level: 'error',
      namespace: 'n',
      message: 'bad \x1b[2J input',
      fields: { user: 'ali\u0085ce', raw: 'x\x9b31m', failure: new Failure(new Error('a\u202eb')) },
    });
    // eslint-disable-next-line no-control-regex -- the property is about control characters
    expect(line).to.not.match(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    expect(line).to.include('bad \\u001b[2J input user="ali\\u0085ce" raw="x\\u009b31m"');
    expect(line).to.include('Error: a\\u202eb');
  });

  it('the JSON observer escapes DEL, C1 and bidi controls, and stays JSON', () => {
    const out = sink();
    setLogObservers([jsonFileObserver(out)]);
    new Logger('n').info('m\x7f\u0085\u2066', { user: 'ali\u0085ce' });
    // eslint-disable-next-line no-control-regex -- the property is about control characters
    expect(out.text.trimEnd()).to.not.match(/[\x00-\x1f\x7f-\x9f\u2066]/);
    const parsed = JSON.parse(out.text) as { message: string; fields: { user: string } };
    expect(parsed.message).to.equal('m\x7f\u0085\u2066');
    expect(parsed.fields.user).to.equal('ali\u0085ce');
  });

  it('observers can filter by level', () => {
    const out = sink();
    setLogObservers([jsonFileObserver(out, 'error'), textFileObserver(out, 'critical')]);
    const log = new Logger('x');
    log.warn('dropped');
    log.error('kept once');
    log.critical('kept twice');
    expect(out.text.match(/kept once/g)).to.have.length(1);
    expect(out.text.match(/kept twice/g)).to.have.length(2);
    expect(out.text).not.to.include('dropped');
  });

  it('publishLogEvent() reaches observers registered through any copy of the module', () => {
    const { events, stop } = collector();
    publishLogEvent({ time: 1, level: 'info', namespace: 'n', message: 'direct', fields: {} });
    stop();
    expect(events.map((e) => e.message)).to.deep.equal(['direct']);
  });
});
