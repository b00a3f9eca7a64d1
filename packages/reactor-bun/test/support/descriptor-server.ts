// An Echo server on BunReactor, run as its own process by
// test/descriptor-exhaustion.bun.test.ts under a low descriptor limit (Bun
// cannot lower its own). It prints "listening <port>" once bound. Commands on
// stdin, one per line: "hold" opens the null device until EMFILE and keeps
// every descriptor it got (the program itself using up the limit), answering
// "holding <count>"; "release" closes them again, answering "released".
import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import { EchoFactory } from '@torsion/echo';
import { BunReactor } from '../../src/index.js';

/** Far above any limit the test sets; bounds the loop if EMFILE never comes. */
const MAX_HELD = 100_000;

const reactor = new BunReactor({ shutdownGracePeriod: 0.5 });
const held: number[] = [];

function hold(): void {
  try {
    while (held.length < MAX_HELD) held.push(openSync(devNull, 'r'));
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EMFILE') throw err;
  }
  process.stdout.write(`holding ${String(held.length)}\n`);
}

function release(): void {
  for (const fd of held.splice(0)) closeSync(fd);
  process.stdout.write('released\n');
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\n')) >= 0) {
    const command = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (command === 'hold') hold();
    else if (command === 'release') release();
  }
});
// The test closing stdin (or dying) ends the server.
process.stdin.on('end', () => {
  if (reactor.running) reactor.stop();
});

const port = await reactor
  .listenTCP(0, new EchoFactory(), { interface: '127.0.0.1' })
  .whenListening();
process.stdout.write(`listening ${String(port.getHost().port)}\n`);
await reactor.run();
process.exit(0);
