// Run by tls-leak.integration.test.ts as
// `node --expose-gc --import tsx tls-failed-handshakes-child.ts`: a
// listenSSL server meets ROUNDS connections whose handshakes all fail
// (garbage instead of a ClientHello, or a client that closes at once), 128
// at a time, after a warm-up round. Prints one JSON line: the open file
// descriptors, JavaScript and Buffer memory (after forced collections) and
// RSS before and after, how many failures were logged, and what the port and
// the reactor still hold.
import { connect } from 'node:net';
import { readdirSync } from 'node:fs';
import { NodeReactor } from '../../src/node-reactor.js';
import { setLogObservers } from '../../src/log.js';
import { Factory } from '../../src/factory.js';
import { Protocol } from '../../src/protocol.js';
import { makeTestCertificates } from '../../src/testing/index.js';
import { serverTLSOptions } from '../../src/tls-options.js';

const ROUNDS = Number(process.argv[2] ?? 10_000);
const WARM_UP = 500;
const CONCURRENCY = 128;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

let failuresLogged = 0;
setLogObservers([
  (event) => {
    if (event.namespace === 'torsion.tls' && event.fields.code !== undefined) failuresLogged++;
  },
]);

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function settle(): Promise<{ heap: number; rss: number; fds: number }> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss, fds: openFds() };
}

const certs = makeTestCertificates();
const reactor = new NodeReactor({ installSignalHandlers: false });
const running = reactor.run();
let built = 0;
const port = reactor.listenSSL(
  0,
  Factory.forProtocol(
    class extends Protocol {
      constructor() {
        super();
        built++;
      }
    },
  ),
  serverTLSOptions({ key: certs.server.key, cert: certs.server.cert }),
  { interface: '127.0.0.1', backlog: 511 },
);
await port.whenListening();
const portNumber = port.getHost().port;
const GARBAGE = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');

/** One connection whose handshake fails: garbage, or an end before any byte. */
function failOne(i: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(portNumber, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('connect', () => {
      if (i % 4 === 3) socket.end();
      else socket.write(GARBAGE);
    });
    socket.resume();
    socket.on('close', () => resolve());
  });
}

async function run(count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await failOne(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

await run(WARM_UP);
await new Promise((resolve) => setTimeout(resolve, 100));
const before = await settle();
const loggedBefore = failuresLogged;
await run(ROUNDS);
for (let i = 0; i < 200 && failuresLogged - loggedBefore < ROUNDS; i++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await new Promise((resolve) => setTimeout(resolve, 100));
const after = await settle();
const result = {
  rounds: ROUNDS,
  failuresLogged: failuresLogged - loggedBefore,
  built,
  handshakesInProgress: (port as unknown as { handshakesInProgress: number }).handshakesInProgress,
  before,
  after,
};
reactor.stop();
await running;
process.stdout.write(`${JSON.stringify(result)}\n`);
