// Tests of src/endpoint-types.ts: loading the runner registers the endpoint
// types it serves beyond @torsion/core's (haproxy:), so they parse, show in
// the "known: …" list of an endpoint error, and round-trip.
import { expect } from 'chai';
import {
  formatServerDescription,
  parseServerDescription,
  serverEndpointPrefixes,
} from '@torsion/core';
import '../src/endpoint-types.js';

describe('the runner’s endpoint types', () => {
  it('registers haproxy: with @torsion/core, listed among the known types', () => {
    expect(serverEndpointPrefixes()).to.include('haproxy');
    expect(() => parseServerDescription('haproxi:tcp:8007')).to.throw(/known: [^)]*\bhaproxy\b/);
  });

  it('parses and formats a haproxy: endpoint around a stream endpoint', () => {
    const description = parseServerDescription('haproxy:timeout=3:tcp:8007:interface=127.0.0.1');
    expect(description.type).to.equal('haproxy');
    expect(formatServerDescription(description)).to.equal(
      'haproxy:timeout=3:tcp:8007:interface=127.0.0.1',
    );
  });
});
