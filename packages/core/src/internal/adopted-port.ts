/**
 * `AdoptedPort`: a listening socket this process inherited (systemd socket
 * activation hands them over from descriptor 3), served through a
 * `net.Server` listening on the descriptor (`listen({ fd })`). It accepts
 * TCP connections for the INET families and UNIX ones for `UNIX`, with the
 * same transports as the ports the reactor binds itself. The state, the
 * waiters and `doStart`/`doStop` are BasePort's; stopping it closes the
 * descriptor.
 *
 * Tests: test/endpoints/adopted-port.integration.test.ts,
 *   test/endpoints/systemd-endpoint.test.ts
 * @module
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { addressFor, UNIXAddress, type IAddress } from '../address.js';
import type { AdoptedSocketFamily, IProtocolFactory } from '../interfaces.js';
import { Logger } from '../log.js';
import { BasePort } from '../reactor-kit/base-port.js';
import { buildProtocolSafely } from '../reactor-kit/build-protocol.js';
import { THREW } from '../reactor-kit/call-safely.js';
import { inheritedSocketAddress } from './inherited-socket-address.js';
import type { Registry } from './registry.js';
import { TCPTransport } from './tcp-transport.js';
import { UNIXTransport } from './unix-transport.js';

const log = new Logger('torsion.tcp');
const UNNAMED = new UNIXAddress(null);

function ignoreError(): void {}

/** A port on an inherited listening descriptor. Created by `reactor.adoptStreamPort()`. */
export class AdoptedPort extends BasePort<IAddress> {
  readonly #registry: Registry;
  readonly #fd: number;
  readonly #family: AdoptedSocketFamily;
  readonly #server: Server;

  constructor(
    registry: Registry,
    fd: number,
    family: AdoptedSocketFamily,
    factory: IProtocolFactory,
  ) {
    super({
      resources: registry,
      factory,
      port: 0,
      iface: `fd ${String(fd)}`,
      host:
        family === 'UNIX' ? UNNAMED : addressFor('TCP', family === 'INET6' ? '::' : '0.0.0.0', 0),
      log,
    });
    this.#registry = registry;
    this.#fd = fd;
    this.#family = family;
    this.#server = createServer({ allowHalfOpen: true });
    this.#server.on('connection', (socket: Socket) => {
      this.#accept(socket);
    });
    this.#server.on('error', (err: Error) => {
      if (!this.hasBound) {
        this.bindFailed(err);
        return;
      }
      this.log.failure('Error on listening port', err, { port: this.getHost().toString() }, 'warn');
    });
    this.#server.on('listening', () => {
      this.bound(this.#boundAddress());
    });
  }

  #boundAddress(): IAddress {
    const address = this.#server.address();
    // Node knows no path for a server listening on a descriptor.
    if (this.#family === 'UNIX') {
      return inheritedSocketAddress(this.#fd, 'UNIX') ?? UNNAMED;
    }
    if (typeof address === 'string') return new UNIXAddress(address);
    if (address !== null) return addressFor('TCP', address.address, address.port);
    return this.getHost();
  }

  protected bind(): void {
    try {
      this.#server.listen({ fd: this.#fd });
    } catch (err) {
      // A descriptor that is not a socket (EINVAL/ENOTSOCK) may be refused synchronously.
      setImmediate(() => {
        this.bindFailed(err);
      });
    }
  }

  protected close(): void {
    this.#server.close();
    setImmediate(() => {
      this.closed();
    });
  }

  #accept(socket: Socket): void {
    if (!this.accepting) {
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    if (this.#family === 'UNIX') {
      const host = this.getHost() as UNIXAddress;
      const protocol = buildProtocolSafely(log, this.factory, UNNAMED);
      if (protocol === THREW || protocol === null) {
        socket.on('error', ignoreError);
        socket.destroy();
        return;
      }
      const transport = new UNIXTransport(
        socket,
        protocol,
        host,
        UNNAMED,
        this,
        this.#registry.writeHighWaterMark,
      );
      this.addConnection(transport);
      transport.start();
      return;
    }
    const remoteHost = socket.remoteAddress;
    if (remoteHost === undefined) {
      // The peer already went away (reset before accept).
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const peer = addressFor('TCP', remoteHost, socket.remotePort ?? 0);
    const host = addressFor('TCP', socket.localAddress ?? '0.0.0.0', socket.localPort ?? 0);
    const protocol = buildProtocolSafely(log, this.factory, peer);
    if (protocol === THREW || protocol === null) {
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    const transport = new TCPTransport(
      socket,
      protocol,
      host,
      peer,
      this,
      this.#registry.writeHighWaterMark,
    );
    this.addConnection(transport);
    transport.start();
  }
}
