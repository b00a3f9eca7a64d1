/**
 * Torsion's unix-echo server on Bun: the same `Echo` protocol as
 * torsion-unix-echo.ts, served by BunReactor's `listenUNIX` on the path given
 * as its argument. Speaks the stdio protocol in control.ts (its first line
 * is the path).
 * Run: `node_modules/.bin/bun bench/dist/servers/bun-reactor-unix-echo.js /tmp/dir/s`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Factory } from '@torsion/core';
import { BunReactor } from '@torsion/reactor-bun';
import { exposeBunGc } from './bun-gc.js';
import { serveControl } from './control.js';
import { CountingEcho, openEchoConnections } from './counting-echo.js';
import { socketPathArgument } from './unix-args.js';

exposeBunGc();
const path = socketPathArgument();
const reactor = new BunReactor();
const port = reactor.listenUNIX(path, Factory.forProtocol(CountingEcho), { backlog: 511 });
await port.whenListening();
serveControl(path, openEchoConnections);
