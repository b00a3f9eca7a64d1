/**
 * `@torsion/echo/plugin`: the `torsion echo` service for the runner
 * (an IServiceMaker). `torsion echo` serves RFC 862 on tcp:8007;
 * `torsion echo --lines` echoes whole CRLF lines instead; a `udp:` endpoint
 * (`torsion echo --listen udp:8007`) serves the UDP echo.
 *
 * Tests: test/plugin.test.ts
 * @module
 */
import type {
  IDatagramProtocol,
  IProtocolFactory,
  IServiceMaker,
  PluginOptionValues,
} from '@torsion/core';
import { EchoFactory } from './echo.js';
import { LineEchoFactory } from './line-echo.js';
import { DatagramEcho } from './udp-echo.js';

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
  /** A UDP echo per `udp:` endpoint; a datagram is echoed whole, so `--lines` does not apply. */
  makeDatagramProtocol(): IDatagramProtocol {
    return new DatagramEcho();
  },
};

export default echoServiceMaker;
