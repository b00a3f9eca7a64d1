import { expect } from 'chai';

import {
  applyServedOptions,
  defaultServedSettings,
  readPolicySettings,
  ServedOptionError,
} from '../src/served/options.js';

describe('the serving options', () => {
  it('default to a 5 s drain, no access log, no metrics', () => {
    expect(defaultServedSettings()).to.deep.equal({ shutdownTimeout: 5 });
  });

  it('read --shutdown-timeout (0 allowed), --access-log and --metrics', () => {
    const settings = defaultServedSettings();
    applyServedOptions(
      { 'shutdown-timeout': '2.5', 'access-log': '-', metrics: 'tcp:9464:interface=127.0.0.1' },
      settings,
    );
    expect(settings.shutdownTimeout).to.equal(2.5);
    expect(settings.accessLog).to.equal('-');
    expect(settings.metrics).to.include({ type: 'tcp' });
    applyServedOptions({ 'shutdown-timeout': '0' }, settings);
    expect(settings.shutdownTimeout).to.equal(0);
  });

  it('reject bad values with an error naming the option', () => {
    const settings = defaultServedSettings();
    expect(() => {
      applyServedOptions({ 'shutdown-timeout': '-1' }, settings);
    }).to.throw(ServedOptionError, /--shutdown-timeout/);
    expect(() => {
      applyServedOptions({ metrics: 'tcp:99999' }, settings);
    }).to.throw(ServedOptionError, /^--metrics: /);
    expect(() => {
      applyServedOptions({ 'access-log': '' }, settings);
    }).to.throw(ServedOptionError, /--access-log/);
    expect(() => readPolicySettings({ 'max-connections': '0' })).to.throw(/--max-connections/);
    expect(() => readPolicySettings({ 'max-connections-per-peer': 'x' })).to.throw(
      /--max-connections-per-peer/,
    );
    expect(() => readPolicySettings({ 'idle-timeout': '0' })).to.throw(/--idle-timeout/);
  });

  it('read the policy flags, leaving --idle-timeout to a plugin that defines its own', () => {
    const values = {
      'max-connections': '10',
      'max-connections-per-peer': '2',
      'idle-timeout': '60',
    };
    expect(readPolicySettings(values)).to.deep.equal({
      maxConnections: 10,
      maxConnectionsPerPeer: 2,
      idleTimeout: 60,
    });
    expect(readPolicySettings(values, ['idle-timeout'])).to.deep.equal({
      maxConnections: 10,
      maxConnectionsPerPeer: 2,
    });
  });
});
