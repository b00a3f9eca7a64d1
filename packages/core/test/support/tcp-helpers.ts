// Node-specific pieces for the real-socket tests: a plain node:net client
// with its events recorded, and small bounded waits. The recording protocols
// and factories come from src/testing. Every wait is bounded by mocha's test
// timeout or a count.
import { connect, type Socket } from 'node:net';

/**
 * A plain Node client socket, connected; errors are recorded, never thrown.
 * With `allowHalfOpen` false (the default) it closes when the server's FIN arrives.
 */
export async function rawConnect(
  port: number,
  host = '127.0.0.1',
  allowHalfOpen = false,
): Promise<RawClient> {
  const client = rawSocket(port, host, allowHalfOpen);
  const socket = client.socket;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return client;
}

/** A plain Node client socket, connecting; nothing is awaited. */
export function rawSocket(port: number, host = '127.0.0.1', allowHalfOpen = false): RawClient {
  return new RawClient(connect({ port, host, allowHalfOpen }));
}

/** A Node socket with its events recorded, for testing the server side. */
export class RawClient {
  readonly socket: Socket;
  readonly chunks: Buffer[] = [];
  error: Error | null = null;
  ended = false;
  readonly closed: Promise<boolean>;
  readonly gotEnd: Promise<void>;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('error', (e) => {
      this.error = e;
    });
    this.gotEnd = new Promise((resolve) => {
      socket.on('end', () => {
        this.ended = true;
        resolve();
      });
    });
    this.closed = new Promise((resolve) => socket.on('close', resolve));
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async waitForBytes(bytes: number): Promise<Buffer> {
    while (this.received().length < bytes) {
      if (this.socket.destroyed)
        throw new Error(`socket closed after ${this.received().length} bytes`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.socket.off('data', wake).off('close', wake);
          resolve();
        };
        this.socket.on('data', wake).on('close', wake);
      });
    }
    return this.received();
  }
}

/** Resolves after `n` turns of the event loop (setImmediate). */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `predicate` once per loop turn, at most `limit` turns. */
export async function until(predicate: () => boolean, limit = 10_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('condition not reached');
}
