// The runner plugin: its declared shape, and the factory each option selects.
import { expect } from 'chai';
import { Logger } from '@torsion/core';
import type { PluginContext } from '@torsion/core';
import { MemoryReactorClock } from '@torsion/core/testing';
import plugin from '../src/plugin.js';
import { EchoFactory } from '../src/echo.js';
import { LineEchoFactory } from '../src/line-echo.js';

const context: PluginContext = {
  reactor: new MemoryReactorClock(),
  log: new Logger('torsion.echo'),
};

describe('@torsion/echo/plugin', () => {
  it('declares the echo service on tcp:8007 with a --lines option', () => {
    expect(plugin.name).to.equal('echo');
    expect(plugin.description).to.be.a('string').and.not.equal('');
    expect(plugin.defaultListen).to.deep.equal(['tcp:8007']);
    expect(plugin.options).to.deep.equal({
      lines: { type: 'boolean', description: 'echo whole lines (CRLF) instead of raw bytes' },
    });
  });

  it('makes a byte echo factory by default', () => {
    expect(plugin.makeFactory({}, context)).to.be.instanceOf(EchoFactory);
    expect(plugin.makeFactory({ lines: false }, context)).to.be.instanceOf(EchoFactory);
  });

  it('makes a line echo factory with lines: true', () => {
    expect(plugin.makeFactory({ lines: true }, context)).to.be.instanceOf(LineEchoFactory);
  });
});
