/**
 * The JavaScript heap one `ProtocolWrapper` adds to an idle connection:
 * serves `EchoFactory` on the Node reactor, plain or each protocol wrapped,
 * opens N loopback connections from a child process, and prints the heap
 * growth per connection (after forced GCs). The difference between the two
 * runs is the wrapper's cost (docs/policies.md quotes it).
 *
 *   node --expose-gc --import tsx packages/policies/test/wrapper-heap.bench.ts plain 2000
 *   node --expose-gc --import tsx packages/policies/test/wrapper-heap.bench.ts wrapped 2000
 */
import { NodeReactor, type IAddress, type IProtocol } from '@torsion/core';
import { EchoFactory } from '@torsion/echo';
import { ProtocolWrapper, type IWrapperRegistry } from '../src/protocol-wrapper.js';
import { fork } from 'node:child_process';
import v8 from 'node:v8';

const mode = process.argv[2] ?? 'wrapped';
const N = Number(process.argv[3] ?? 2000);
if (mode === 'client') {
  const net = await import('node:net');
  const port = Number(process.argv[4]);
  const socks: unknown[] = [];
  let up = 0;
  for (let i = 0; i < N; i++) {
    const s = net.connect(port, '127.0.0.1', () => {
      up++;
      if (up === N) process.send!('up');
    });
    socks.push(s);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  process.on('message', () => process.exit(0));
} else {
  const echo = new EchoFactory();
  let live = 0;
  const registry: IWrapperRegistry = {
    registerProtocol() {
      live++;
    },
    unregisterProtocol() {
      live--;
    },
  };
  const factory = {
    doStart() {},
    doStop() {},
    buildProtocol(addr: IAddress): IProtocol | null {
      const p = echo.buildProtocol(addr);
      if (mode === 'plain') {
        live++;
        return p;
      }
      return p === null ? null : new ProtocolWrapper(registry, p);
    },
  };
  const reactor = new NodeReactor({ installSignalHandlers: false });
  const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1' });
  await port.whenListening();
  const done = reactor.run();
  const heap = () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with node --expose-gc');
    for (let i = 0; i < 4; i++) gc();
    return v8.getHeapStatistics().used_heap_size;
  };
  await new Promise((r) => setTimeout(r, 200));
  const before = heap();
  const child = fork(
    new URL(import.meta.url).pathname,
    ['client', String(N), String(port.getHost().port)],
    { execArgv: ['--import', 'tsx'] },
  );
  await new Promise<void>((r) => child.on('message', () => r()));
  while (live < N) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  const after = heap();
  console.log(
    `${mode}: ${((after - before) / N / 1024).toFixed(2)} KiB heap per connection (N=${N})`,
  );
  child.send('bye');
  await new Promise((r) => child.on('exit', r));
  await port.stopListening();
  reactor.stop();
  await done;
}
