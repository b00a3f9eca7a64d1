// Tests of src/index.ts: the package's entry point exports what the docs use.
import { expect } from 'chai';
import * as haproxy from '../src/index.js';

describe('@torsion/haproxy entry point', () => {
  it('exports the parser, the encoders and the errors', () => {
    for (const name of [
      'ProxyHeaderParser',
      'parseProxyHeader',
      'encodeProxyV1',
      'encodeProxyV2',
      'ProxyHeaderError',
      'parseCIDR',
    ]) {
      expect(haproxy).to.have.property(name);
    }
  });

  it('round-trips a header through the public names', () => {
    const out = haproxy.parseProxyHeader(haproxy.encodeProxyV2({ command: 'LOCAL' }));
    expect(out.kind).to.equal('header');
  });
});
