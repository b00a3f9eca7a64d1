/**
 * Torsion's unix-echo server: the textbook `Echo` protocol (dataReceived
 * writes the bytes back) on a NodeReactor's `listenUNIX`, on the path given
 * as its argument. Speaks the stdio protocol in control.ts (its first line
 * is the path).
 * Run: `node --expose-gc bench/dist/servers/torsion-unix-echo.js /tmp/dir/s`.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { Factory, NodeReactor } from '@torsion/core';
import { serveControl } from './control.js';
import { CountingEcho, openEchoConnections } from './counting-echo.js';
import { socketPathArgument } from './unix-args.js';

const path = socketPathArgument();
const reactor = new NodeReactor();
// The same backlog as the net baseline.
const port = reactor.listenUNIX(path, Factory.forProtocol(CountingEcho), { backlog: 511 });
await port.whenListening();
serveControl(path, openEchoConnections);
