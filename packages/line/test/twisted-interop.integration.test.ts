// Interop with a real Twisted 22.4 peer over 127.0.0.1: Torsion's
// LineReceiver, NetstringReceiver and Int32StringReceiver talk to Twisted's.
// Needs `/usr/bin/python3` with Twisted (Debian: python3-twisted); skipped,
// with a message on stderr, when Twisted cannot be imported.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ConnectionDone, Failure, IPv4Address } from '@torsion/core';
import type { IProtocol, ITransport, WriteData } from '@torsion/core';
import { Int32StringReceiver } from '../src/int-string-receiver.js';
import { LineReceiver } from '../src/line-receiver.js';
import { NetstringReceiver } from '../src/netstring-receiver.js';

const PEER = fileURLToPath(new URL('./fixtures/twisted_peer.py', import.meta.url));
const PYTHON = ['/usr/bin/python3', 'python3'].find(
  (exe) => spawnSync(exe, ['-c', 'import twisted'], { timeout: 20_000 }).status === 0,
);

/** A minimal ITransport over a Node socket, enough to drive a protocol in this test. */
class SocketTransport implements ITransport {
  disconnecting = false;
  constructor(readonly socket: Socket) {}
  write(data: WriteData): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }
  writeSequence(data: Iterable<WriteData>): void {
    for (const item of data) this.write(item);
  }
  loseConnection(): void {
    this.disconnecting = true;
    this.socket.end();
  }
  getHost(): IPv4Address {
    return new IPv4Address('TCP', '127.0.0.1', this.socket.localPort ?? 0);
  }
  getPeer(): IPv4Address {
    return new IPv4Address('TCP', '127.0.0.1', this.socket.remotePort ?? 0);
  }
}

async function startPeer(mode: string, children: ChildProcess[]): Promise<number> {
  const child = spawn(PYTHON!, [PEER, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => {
      reject(new Error(`Twisted peer exited (${String(code)}) before listening`));
    });
  });
}

/** Connects `proto` to the peer, sends `stream` in 7-byte writes, resolves when the connection closes. */
async function converse(
  port: number,
  proto: IProtocol,
  stream: Buffer,
  sockets: Socket[],
): Promise<void> {
  const socket = createConnection({ host: '127.0.0.1', port });
  sockets.push(socket);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const transport = new SocketTransport(socket);
  proto.makeConnection(transport);
  const closed = new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      proto.dataReceived(data);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      proto.connectionLost(new Failure(new ConnectionDone()));
      resolve();
    });
  });
  for (let at = 0; at < stream.length; at += 7) socket.write(stream.subarray(at, at + 7));
  await closed;
}

const PAYLOADS = ['hello', '', 'tab\there', 'ünïcödé', 'x'.repeat(5000), 'bye'];
const BINARY = [
  Buffer.from('a,b:c\r\n\x00\xff', 'latin1'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
];

describe('interop with a real Twisted peer (loopback)', function () {
  this.timeout(30_000);
  const children: ChildProcess[] = [];
  const sockets: Socket[] = [];

  before(function () {
    if (PYTHON === undefined) {
      process.stderr.write('\n  SKIPPED: Twisted is not importable (install python3-twisted)\n');
      this.skip();
    }
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
  });

  it('LineReceiver and Twisted LineReceiver exchange CRLF lines both ways', async () => {
    const port = await startPeer('line', children);
    class Client extends LineReceiver {
      override MAX_LENGTH = 10_000;
      got: string[] = [];
      override lineReceived(line: Buffer): void {
        this.got.push(line.toString('utf8'));
      }
    }
    const client = new Client();
    const stream = Buffer.concat(PAYLOADS.map((p) => Buffer.from(`${p}\r\n`)));
    await converse(port, client, stream, sockets);
    expect(client.got).to.deep.equal(PAYLOADS.map((p) => `got:${p}`));
  });

  it('NetstringReceiver and Twisted NetstringReceiver exchange netstrings, binary included', async () => {
    const port = await startPeer('netstring', children);
    class Client extends NetstringReceiver {
      got: Buffer[] = [];
      override stringReceived(payload: Buffer): void {
        this.got.push(payload);
      }
    }
    const client = new Client();
    const payloads = [...BINARY, ...PAYLOADS.map((p) => Buffer.from(p))];
    const stream = Buffer.concat(
      payloads.map((p) => Buffer.concat([Buffer.from(`${p.length}:`), p, Buffer.from(',')])),
    );
    await converse(port, client, stream, sockets);
    expect(client.got).to.deep.equal(payloads.map((p) => Buffer.concat([Buffer.from('got:'), p])));
  });

  it('Int32StringReceiver and Twisted Int32StringReceiver exchange length-prefixed strings', async () => {
    const port = await startPeer('int32', children);
    class Client extends Int32StringReceiver {
      got: Buffer[] = [];
      override stringReceived(payload: Buffer): void {
        this.got.push(payload);
      }
      override connectionMade(): void {
        for (const p of payloads) this.sendString(p);
      }
    }
    const payloads = [...BINARY, ...PAYLOADS.map((p) => Buffer.from(p))];
    const client = new Client();
    await converse(port, client, Buffer.alloc(0), sockets);
    expect(client.got).to.deep.equal(payloads.map((p) => Buffer.concat([Buffer.from('got:'), p])));
  });
});
