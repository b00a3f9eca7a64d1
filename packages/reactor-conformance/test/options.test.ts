// The suite's options: validated when the suite is registered, so a typo in
// a skip list or a known-failure title fails loudly instead of hiding tests.
import { expect } from 'chai';
import { NodeReactor } from '@torsion/core';
import { describeReactorConformance, REACTOR_CAPABILITIES } from '@torsion/reactor-conformance';
import type { ConformanceOptions, ReactorCapability } from '@torsion/reactor-conformance';
import { checkKnownFailures, resolveSettings } from '../src/internal/settings.js';

const makeReactor = (): NodeReactor => new NodeReactor({ installSignalHandlers: false });

describe('conformance suite options', () => {
  it('rejects a missing makeReactor with a TypeError', () => {
    expect(() => {
      describeReactorConformance('broken', {} as ConformanceOptions);
    }).to.throw(TypeError, /makeReactor/);
  });

  it('rejects an unknown capability in skip, naming the known ones', () => {
    expect(() => {
      describeReactorConformance('broken', {
        makeReactor,
        skip: ['ipv9' as ReactorCapability],
      });
    }).to.throw(RangeError, /ipv9[\s\S]*halfClose/);
  });

  it('rejects a timeout or timeoutScale that is not a positive finite number', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => resolveSettings({ makeReactor, timeout: bad }), String(bad)).to.throw(
        RangeError,
      );
      expect(() => resolveSettings({ makeReactor, timeoutScale: bad }), String(bad)).to.throw(
        RangeError,
      );
    }
  });

  it('scales the reactor-time guard and mocha timeout by timeoutScale', () => {
    const settings = resolveSettings({ makeReactor, timeout: 4, timeoutScale: 3 });
    expect(settings.guardSeconds).to.equal(12);
    expect(settings.mochaTimeoutMs).to.be.greaterThan(12_000);
    expect(resolveSettings({ makeReactor }).guardSeconds).to.equal(10);
  });

  it('throws for a knownFailures title that names no test', () => {
    const settings = resolveSettings({
      makeReactor,
      knownFailures: { 'a test that does not exist': 'typo', matched: 'fine' },
    });
    settings.matchedKnownFailures.add('matched');
    expect(() => {
      checkKnownFailures(settings);
    }).to.throw(RangeError, /a test that does not exist/);
  });

  it('lists every capability a skip list may name', () => {
    expect([...REACTOR_CAPABILITIES].sort()).to.deep.equal([
      'adoptStreamPort',
      'halfClose',
      'portInUse',
      'processes',
      'shutdownGracePeriod',
      'startTLS',
      'tcpOptions',
      'tls',
      'tlsHalfClose',
      'tlsSNI',
      'udp',
      'udpIPv6',
      'udpListenMultiple',
      'udpMulticast',
      'unix',
      'unixAbstract',
    ]);
  });
});
