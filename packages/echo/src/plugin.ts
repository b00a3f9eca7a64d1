/**
 * `@torsion/echo/plugin`: the `torsion echo` service for the runner
 * (an IServiceMaker). `torsion echo` serves RFC 862 on tcp:8007;
 * `torsion echo --lines` echoes whole CRLF lines instead.
 *
 * Tests: test/plugin.test.ts
 * @module
 */
import type { IProtocolFactory, IServiceMaker, PluginOptionValues } from '@torsion/core';
import { EchoFactory } from './echo.js';
import { LineEchoFactory } from './line-echo.js';

/** The echo service: raw bytes by default, whole lines with `--lines`. */
const echoServiceMaker: IServiceMaker = {
  name: 'echo',
  description: 'Echo (RFC 862): send back every byte received',
  defaultListen: ['tcp:8007'],
  options: {
    lines: {
      type: 'boolean',
      description: 'echo whole lines (CRLF) instead of raw bytes',
    },
  },
  makeFactory(options: PluginOptionValues): IProtocolFactory {
    return options.lines === true ? new LineEchoFactory() : new EchoFactory();
  },
};

export default echoServiceMaker;
