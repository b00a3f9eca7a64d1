// The echo() helper against real servers on loopback: round trips, the
// half-close that lets the server finish, and each failure it reports.
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import {
  CancelledError,
  ConnectError,
  ConnectionRefusedError,
  DeferredTimeoutError,
  NodeReactor,
} from '@torsion/core';
import type { IListeningPort } from '@torsion/core';
import { EchoFactory } from '../src/echo.js';
import { LineEchoFactory } from '../src/line-echo.js';
import { echo } from '../src/echo-client.js';

describe('echo() client', function () {
  this.timeout(20_000);
  let reactor: NodeReactor;
  let ports: IListeningPort[] = [];
  let rawServers: Server[] = [];
  let rawSockets: Socket[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
  });

  afterEach(async () => {
    for (const s of rawSockets) s.destroy();
    for (const s of rawServers) s.close();
    await Promise.all(ports.map((p) => p.stopListening()));
    ports = [];
    rawServers = [];
    rawSockets = [];
  });

  async function serve(factory: EchoFactory | LineEchoFactory): Promise<number> {
    const port = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
    ports.push(port);
    return port.getHost().port;
  }

  /** A raw server that accepts and never answers nor closes. */
  async function silentServer(): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      rawSockets.push(socket);
      socket.resume();
    });
    rawServers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  /** A free port: bound, then released. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    return port;
  }

  it('sends the data and fires with exactly what the server sent back', async () => {
    const port = await serve(new EchoFactory());
    const reply = await echo('hello, echo', { host: '127.0.0.1', port, reactor });
    expect(reply).to.be.instanceOf(Buffer);
    expect(reply.toString()).to.equal('hello, echo');
  });

  it('round-trips 1 MB of binary data', async () => {
    const port = await serve(new EchoFactory());
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const reply = await echo(data, { host: '127.0.0.1', port, reactor });
    expect(reply.equals(data)).to.equal(true);
  });

  it('fires with an empty buffer for empty data', async () => {
    const port = await serve(new EchoFactory());
    const reply = await echo(Buffer.alloc(0), { host: '127.0.0.1', port, reactor });
    expect(reply.length).to.equal(0);
  });

  it('gets only the complete lines back from a line echo server', async () => {
    const port = await serve(new LineEchoFactory());
    const reply = await echo('one\r\ntwo\r\nthree', { host: '127.0.0.1', port, reactor });
    expect(reply.toString()).to.equal('one\r\ntwo\r\n');
  });

  it('fails with ConnectionRefusedError when nothing listens', async () => {
    const port = await closedPort();
    const error = await echo('x', { host: '127.0.0.1', port, reactor }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(ConnectionRefusedError);
  });

  it('fails with DeferredTimeoutError, not a ConnectError, when the server never answers', async () => {
    const port = await silentServer();
    const error = await echo('x', { host: '127.0.0.1', port, reactor, timeout: 0.2 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(DeferredTimeoutError);
    expect(error).not.to.be.instanceOf(ConnectError);
  });

  it('fails with CancelledError when cancelled', async () => {
    const port = await silentServer();
    const reply = echo('x', { host: '127.0.0.1', port, reactor });
    const error = reply.then(
      () => null,
      (err: unknown) => err,
    );
    reactor.callLater(0.05, () => reply.cancel());
    expect(await error).to.be.instanceOf(CancelledError);
  });

  it('rejects data that is not bytes or a string with a TypeError naming the type', () => {
    expect(() => echo(42 as unknown as string, { host: '127.0.0.1', port: 1, reactor })).to.throw(
      TypeError,
      /number/,
    );
  });

  it('rejects a timeout that is not a positive number of seconds', () => {
    expect(() => echo('x', { host: '127.0.0.1', port: 1, reactor, timeout: 0 })).to.throw(
      RangeError,
    );
  });
});
