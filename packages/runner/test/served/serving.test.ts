// When the runner wraps connections in a tracking wrapper: only for the access
// log and the metrics, never for the drain alone.
import { Factory, Logger, Protocol, parseServerDescription } from '@torsion/core';
import { expect } from 'chai';

import { ServedConnections } from '../../src/served/serving.js';
import type { ServedSettings } from '../../src/served/options.js';
import { TrackingFactory } from '../../src/served/tracking-factory.js';

function served(settings: ServedSettings): ServedConnections {
  return new ServedConnections({
    settings,
    logFormat: 'json',
    stdout: { write: () => undefined },
    cwd: process.cwd(),
    log: new Logger('test.served'),
  });
}

describe('ServedConnections', () => {
  it('serves the factory as it is when only the drain is on', () => {
    const s = served({ shutdownTimeout: 30 });
    const factory = Factory.forProtocol(Protocol);
    expect(s.tracking).to.equal(false);
    expect(s.forEndpoint('echo', factory, 'tcp:8007')).to.equal(factory);
  });

  it('tracks with --metrics, and counts refusals reported to the tracking factory (haproxy:)', () => {
    const s = served({ shutdownTimeout: 30, metrics: parseServerDescription('tcp:0') });
    expect(s.tracking).to.equal(true);
    const tracked = s.forEndpoint('echo', Factory.forProtocol(Protocol), 'haproxy:tcp:8007');
    if (!(tracked instanceof TrackingFactory)) throw new Error('a TrackingFactory was expected');
    tracked.onRefused?.({
      policy: 'haproxy',
      peer: { family: 'IPv4', type: 'TCP', host: '192.0.2.1', port: 1 } as never,
      reason: 'untrusted-proxy',
    });
    const counters = s.countersFor('echo');
    expect([...counters.refused.values()]).to.deep.equal([
      { policy: 'haproxy', reason: 'untrusted-proxy', count: 1 },
    ]);
    expect(counters.ended.refused).to.equal(1);
  });

  it('tracks with --access-log', () => {
    expect(served({ shutdownTimeout: 0, accessLog: '-' }).tracking).to.equal(true);
  });
});
