// Node-specific pieces for the TLS real-socket tests: the throw-away
// certificates as options, a protocol that records what ITLSTransport
// reports when it is connected, a plain node:tls client with its events
// recorded, and a TCP relay that records the raw bytes going to the client
// (to see whether a close_notify alert went out before the FIN). Every wait
// is bounded by mocha's test timeout.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { TLSCipher, TLSPeerCertificate } from '../../src/interfaces.js';
import { Eventual, RecordingProtocol, makeTestCertificates } from '../../src/testing/index.js';
import type { TestCertificates } from '../../src/testing/index.js';
import { serverTLSOptions, type ServerTLSOptionsInit } from '../../src/tls-options.js';
import type { ITLSTransport } from '../../src/interfaces.js';
import { TLSError } from '../../src/errors.js';
import type { Failure } from '../../src/failure.js';

/** The TLSError code a failure carries, or `undefined` if it is not a TLSError. */
export function tlsCode(reason: Failure | null): string | undefined {
  const value: unknown = reason?.value;
  return value instanceof TLSError ? value.code : undefined;
}

export const certs: TestCertificates = makeTestCertificates();

/** Server options with the `localhost` certificate, and `extra` on top. */
export function serverOptions(extra: Omit<ServerTLSOptionsInit, 'key' | 'cert'> = {}) {
  return serverTLSOptions({ key: certs.server.key, cert: certs.server.cert, ...extra });
}

/** What ITLSTransport reported when the protocol was connected. */
export interface TLSSnapshot {
  secure: boolean;
  peerCertificate: TLSPeerCertificate | null;
  negotiatedProtocol: string | null;
  cipher: TLSCipher | null;
  version: string | null;
}

/** A recording protocol that also records the TLS state at `connectionMade` and `handshakeCompleted()`. */
export class TLSRecordingProtocol extends RecordingProtocol {
  snapshot: TLSSnapshot | null = null;
  readonly handshake = new Eventual<void>();

  get tls(): ITLSTransport {
    return this.transport as unknown as ITLSTransport;
  }

  override connectionMade(): void {
    const t = this.tls;
    this.snapshot = {
      secure: t.secure,
      peerCertificate: t.getPeerCertificate(),
      negotiatedProtocol: t.negotiatedProtocol,
      cipher: t.getCipher(),
      version: t.getTLSVersion(),
    };
    super.connectionMade();
  }

  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
    this.handshake.callback();
  }
}

/** The same, echoing what it receives. */
export class TLSEchoProtocol extends TLSRecordingProtocol {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** A plain node:tls client with its events recorded; errors are recorded, never thrown. */
export class RawTLSClient {
  readonly socket: TLSSocket;
  readonly chunks: Buffer[] = [];
  error: Error | null = null;
  readonly secured: Promise<void>;
  readonly closed: Promise<void>;
  readonly ended: Promise<void>;
  ended_ = false;

  constructor(port: number, options: ConnectionOptions = {}) {
    this.socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: certs.ca.cert,
      servername: 'localhost',
      ...options,
    });
    const socket = this.socket;
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('error', (e: Error) => {
      this.error = e;
    });
    this.secured = new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('close', () => reject(this.error ?? new Error('closed before secureConnect')));
    });
    this.secured.catch(() => {});
    this.ended = new Promise((resolve) =>
      socket.on('end', () => {
        this.ended_ = true;
        resolve();
      }),
    );
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async waitForBytes(bytes: number): Promise<Buffer> {
    while (this.received().length < bytes) {
      if (this.socket.destroyed) {
        throw new Error(`socket closed after ${this.received().length} bytes`);
      }
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

/** One direction of a {@link RecordingRelay}: the bytes sent and how the sender ended. */
export class RelayedDirection {
  readonly chunks: Buffer[] = [];
  end: 'fin' | 'reset' | null = null;
  readonly ended = new Eventual<void>();

  /** The TLS record types sent, in order (21 alert, 22 handshake, 23 application data). */
  recordTypes(): number[] {
    const bytes = Buffer.concat(this.chunks);
    const types: number[] = [];
    let offset = 0;
    while (offset + 5 <= bytes.length) {
      types.push(bytes[offset] ?? -1);
      offset += 5 + bytes.readUInt16BE(offset + 3);
    }
    return types;
  }

  ending(how: 'fin' | 'reset'): void {
    this.end ??= how;
    this.ended.callback();
  }
}

/**
 * A TCP relay on 127.0.0.1 in front of `targetPort` that records the bytes
 * each side sends and how each side ended (FIN or reset): with TLS 1.2 the
 * record types show whether a close_notify alert went out before the FIN.
 */
export class RecordingRelay {
  readonly server: Server;
  /** What the target (the listening side) sent. */
  readonly fromTarget = new RelayedDirection();
  /** What the connecting side sent. */
  readonly fromClient = new RelayedDirection();
  #sockets: Socket[] = [];

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(targetPort: number): Promise<RecordingRelay> {
    const server = createServer({ allowHalfOpen: true });
    const relay = new RecordingRelay(server);
    server.on('connection', (client: Socket) => {
      const target = netConnect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
      relay.#sockets.push(client, target);
      pipe(client, target, relay.fromClient);
      pipe(target, client, relay.fromTarget);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  close(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.server.close();
  }
}

/** Relays `from` to `to`, recording into `direction`; a reset is passed on as a reset. */
function pipe(from: Socket, to: Socket, direction: RelayedDirection): void {
  from.on('data', (d: Buffer) => {
    direction.chunks.push(d);
    if (!to.destroyed) to.write(d);
  });
  from.on('end', () => {
    direction.ending('fin');
    if (!to.destroyed) to.end();
  });
  from.on('error', (err: NodeJS.ErrnoException) => {
    direction.ending(err.code === 'ECONNRESET' ? 'reset' : 'fin');
    if (!to.destroyed) to.resetAndDestroy();
  });
}
