// Bun-specific pieces for the Bun reactor tests: a raw Bun socket peer, the
// transport's queued output, and small bounded waits. The recording protocols
// and factories come from @torsion/core/testing. Every wait is bounded by
// mocha's test timeout or a count.
import type { Socket } from 'bun';
import { Eventual } from '@torsion/core/testing';
import type { RecordingProtocol } from '@torsion/core/testing';

interface PeerState {
  peer: RawPeer;
}

/**
 * A plain Bun socket on the other end, with its events recorded: the peer a
 * Torsion transport talks to, without any Torsion code in between.
 */
export class RawPeer {
  readonly chunks: Buffer[] = [];
  received = 0;
  ended = false;
  closed = false;
  closeError: Error | undefined = undefined;
  readonly gotEnd = new Eventual<void>();
  readonly gotClose = new Eventual<Error | undefined>();
  socket!: Socket<PeerState>;
  #wake: (() => void) | null = null;

  /** Connects to 127.0.0.1:`port` (or `host`). */
  static async connect(port: number, host = '127.0.0.1', allowHalfOpen = true): Promise<RawPeer> {
    const peer = new RawPeer();
    peer.socket = await Bun.connect<PeerState>({
      hostname: host,
      port,
      allowHalfOpen,
      data: { peer },
      socket: PEER_HANDLERS,
    });
    return peer;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `bytes` bytes arrived; rejects if the socket closes first. */
  async waitForBytes(bytes: number): Promise<void> {
    while (this.received < bytes) {
      if (this.closed) throw new Error(`peer closed after ${String(this.received)} bytes`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** @internal */
  poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

const PEER_HANDLERS = {
  data(socket: Socket<PeerState>, data: Buffer) {
    const peer = socket.data.peer;
    peer.chunks.push(data);
    peer.received += data.length;
    peer.poke();
  },
  end(socket: Socket<PeerState>) {
    const peer = socket.data.peer;
    peer.ended = true;
    peer.gotEnd.callback();
    peer.poke();
  },
  close(socket: Socket<PeerState>, error?: Error) {
    const peer = socket.data.peer;
    peer.closed = true;
    peer.closeError = error;
    peer.gotClose.callback(error);
    peer.poke();
  },
  error() {},
  drain() {},
};

/** Resolves after `n` turns of the event loop (setImmediate). */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `predicate` every millisecond, at most `limit` times. */
export async function until(predicate: () => boolean, limit = 5_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('condition not reached');
}

/** The transport's queued output (a BunTCPTransport extra, not in ITCPTransport). */
export function bufferedOf(protocol: RecordingProtocol): number {
  return (protocol.transport as unknown as { writeBufferSize: number }).writeBufferSize;
}
