/**
 * `BunAdoptedPort`: a listening socket this process inherited (systemd
 * socket activation hands them over from descriptor 3), served by
 * `Bun.listen({ fd })`, with the semantics of core's Node port for the same:
 * TCP connections for the INET families, UNIX ones for `UNIX`, on Bun's
 * transports. Bun's listener reports no address for a descriptor, so the
 * port reads it from /proc (`inheritedSocketAddress`). Unlike a port the
 * reactor binds, it never stops and re-binds its listener (a descriptor
 * handed down is gone once its listener stops): it does not pause while file
 * descriptors run out, as the UNIX port does not, and `stopListening()`
 * closes the descriptor for good.
 *
 * Tests: test/endpoints.bun.test.ts
 * @module
 */
import { addressFor, Logger, UNIXAddress } from '@torsion/core';
import type { AdoptedSocketFamily, IAddress, INETAddress, IProtocolFactory } from '@torsion/core';
import {
  BasePort,
  buildProtocolSafely,
  inheritedSocketAddress,
  THREW,
  type OpenResources,
} from '@torsion/core/reactor-kit';
import type { SocketHandler } from 'bun';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, SocketData } from './bun-tcp-transport.js';

const log = new Logger('torsion.bun');

/** A UNIX client's own end, which the kernel reports without a name. */
const UNNAMED = new UNIXAddress(null);

/** The handlers of every adopted listener; an accepted socket's `data` starts as its port. */
const LISTEN_HANDLERS: SocketHandler<SocketData> = {
  open(socket) {
    const port = socket.data;
    if (port instanceof BunAdoptedPort) port.accept(socket);
    else socket.terminate();
  },
  ...BunTCPTransport.handlers,
};

/** Bun's listener, as the port uses it. */
interface BunListener {
  stop(closeActiveConnections?: boolean): void;
}

/** What an adopted port needs from its reactor. */
export interface BunAdoptedPortSettings {
  readonly resources: OpenResources;
  /** Write high-water mark given to each accepted connection, in bytes. */
  readonly writeHighWaterMark: number;
}

/** A port on an inherited listening descriptor. Created by `reactor.adoptStreamPort()`. */
export class BunAdoptedPort extends BasePort<IAddress> {
  readonly #settings: BunAdoptedPortSettings;
  readonly #fd: number;
  readonly #family: AdoptedSocketFamily;
  #listener: BunListener | null = null;

  constructor(
    settings: BunAdoptedPortSettings,
    fd: number,
    family: AdoptedSocketFamily,
    factory: IProtocolFactory,
  ) {
    super({
      resources: settings.resources,
      factory,
      port: 0,
      iface: `fd ${String(fd)}`,
      host: wildcard(family),
      log,
    });
    this.#settings = settings;
    this.#fd = fd;
    this.#family = family;
  }

  /** Listens at once: Bun's `listen` is synchronous, and throws for a descriptor it cannot use. */
  protected bind(): void {
    // Bun's type declarations list `fd` for `Bun.connect` only; `Bun.listen` takes it too
    // (checked with Bun 1.4.5: it listens on the descriptor as given).
    this.#listener = Bun.listen<SocketData>({
      fd: this.#fd,
      // Torsion decides what the peer's FIN means (see IHalfCloseableProtocol).
      allowHalfOpen: true,
      data: this,
      socket: LISTEN_HANDLERS,
    } as unknown as Parameters<typeof Bun.listen<SocketData>>[0]);
    this.bound(inheritedSocketAddress(this.#fd, this.#family) ?? wildcard(this.#family));
  }

  /** Stops the listener, which closes the descriptor; closed on the next turn. */
  protected close(): void {
    // `false`: accepted connections are the protocols' to close, not the port's.
    this.#listener?.stop(false);
    this.#listener = null;
    setImmediate(BunAdoptedPort.#closedSoon, this);
  }

  static #closedSoon(port: BunAdoptedPort): void {
    port.closed();
  }

  /**
   * A connection arrived (Bun's `open` on an accepted socket).
   * @internal
   */
  accept(socket: BunSocket): void {
    const remoteHost = socket.remoteAddress as string | undefined;
    const unix = this.#family === 'UNIX';
    if (!this.accepting || (!unix && remoteHost === undefined)) {
      // Stopped meanwhile, or the peer already went away (reset before accept).
      socket.data = null;
      socket.terminate();
      return;
    }
    const peer: IAddress = unix ? UNNAMED : addressFor('TCP', remoteHost ?? '', socket.remotePort);
    const host: IAddress = unix ? this.getHost() : localAddress(socket, this.getHost());
    const protocol = buildProtocolSafely(log, this.factory, peer);
    if (protocol === THREW || protocol == null) {
      socket.data = null;
      socket.end();
      return;
    }
    const { writeHighWaterMark } = this.#settings;
    const transport = new BunTCPTransport<IAddress>(
      socket,
      protocol,
      host,
      peer,
      this,
      writeHighWaterMark,
    );
    this.addConnection(transport);
    transport.start();
  }
}

/** What `getHost()` says when the bound address cannot be told. */
function wildcard(family: AdoptedSocketFamily): IAddress {
  if (family === 'UNIX') return UNNAMED;
  return addressFor('TCP', family === 'INET6' ? '::' : '0.0.0.0', 0);
}

/** This end's address of an accepted TCP socket, or the port's. */
function localAddress(socket: BunSocket, bound: IAddress): INETAddress | IAddress {
  const localHost = socket.localAddress as string | undefined;
  return localHost === undefined ? bound : addressFor('TCP', localHost, socket.localPort);
}
