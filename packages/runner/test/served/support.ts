// Starts runServices in-process on a NodeReactor without signal handlers, for
// the served/ tests.
import { NodeReactor, type IListeningPort } from '@torsion/core';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runServices } from '../../src/run.js';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface Started {
  code: Promise<number>;
  ports: readonly IListeningPort[];
  reactor: NodeReactor;
  stdout: Sink;
  stderr: Sink;
}

export async function start(argv: string[]): Promise<Started> {
  const reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
  const stdout = new Sink();
  const stderr = new Sink();
  let listening: (ports: readonly IListeningPort[]) => void = () => {};
  const ready = new Promise<readonly IListeningPort[]>((resolve) => (listening = resolve));
  const code = runServices(argv, {
    stdout,
    stderr,
    cwd: fixtures,
    reactor,
    onListening: (ports) => {
      listening(ports as readonly IListeningPort[]);
    },
  });
  const ports = await Promise.race([
    ready,
    code.then((c) => {
      throw new Error(`exited ${String(c)} before listening: ${stderr.text}`);
    }),
  ]);
  return { code, ports, reactor, stdout, stderr };
}

/** A connected client socket that collects what it receives. */
export interface Client {
  socket: Socket;
  received(): string;
  closed: Promise<{ hadError: boolean; at: number }>;
}

export async function client(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  // Not events.once: it rejects on the 'error' a reset emits before 'close'.
  const closed = new Promise<{ hadError: boolean; at: number }>((resolve) => {
    socket.on('close', (hadError) => {
      resolve({ hadError, at: performance.now() });
    });
  });
  await once(socket, 'connect');
  return { socket, received: () => text, closed };
}

/** Resolves once `check()` is true, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > ms) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether a new connection to `port` is refused. */
export async function refused(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    socket.destroy();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ECONNREFUSED';
  }
}
