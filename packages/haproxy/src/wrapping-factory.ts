/**
 * `HAProxyWrappingFactory`: serves any factory's protocols behind a proxy
 * that speaks the PROXY protocol. Each connection's header is read first;
 * only then is the wrapped protocol connected, with a transport whose
 * `getPeer()`/`getHost()` are the original client's and server's addresses.
 *
 * Tests: test/wrapping-factory.test.ts, test/wrapping-factory.integration.test.ts
 * @module
 */
import {
  getReactor,
  Logger,
  type Failure,
  type IAddress,
  type IDelayedCall,
  type IProtocol,
  type IProtocolFactory,
  type IReactorTime,
  type ITransport,
} from '@torsion/core';
import {
  checkOnRefused,
  notifyRefused,
  ProtocolWrapper,
  WrappingFactory,
  type OnRefused,
  type RefusalOptions,
} from '@torsion/policies';
import { ProxyHeaderError, ProxyHeaderTimeoutError, UntrustedProxyError } from './errors.js';
import type { ProxyHeader } from './header.js';
import { cidrContains, parseCIDR, type CIDR } from './ip.js';
import { ProxyHeaderParser, type ProxyHeaderParserOptions } from './parser.js';

const log = new Logger('torsion.haproxy');

/**
 * The proxies trusted when `trustedProxies` is not given: loopback only.
 * Only a process on this machine can connect from there, so a header can
 * be forged by no one who could not already reach the service directly;
 * a connection from anywhere else (a client that went around the proxy) is
 * refused rather than believed.
 */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** Seconds a connection has to send its whole header: {@link HAProxyWrappingOptions.headerTimeout}'s default. */
export const DEFAULT_HEADER_TIMEOUT = 5;

/** Options of {@link HAProxyWrappingFactory}. */
export interface HAProxyWrappingOptions extends ProxyHeaderParserOptions, RefusalOptions {
  /**
   * The addresses (CIDR ranges, `10.0.0.0/8`, `fd00::/8`, or single
   * addresses) of the proxies whose headers are believed. A connection from
   * any other address is refused with a log line. IPv4-mapped IPv6 peers
   * (`::ffff:10.0.0.1`) match as their IPv4 address. A connection over a UNIX
   * socket is always trusted: the socket file's permissions decide who
   * connects. Default {@link DEFAULT_TRUSTED_PROXIES} (loopback only).
   */
  readonly trustedProxies?: readonly string[];
  /**
   * Seconds a connection has to send its whole header before it is closed.
   * Default {@link DEFAULT_HEADER_TIMEOUT}.
   */
  readonly headerTimeout?: number;
  /** The reactor whose `callLater` times the header. Default: the default reactor. */
  readonly reactor?: IReactorTime;
}

/**
 * Wraps `wrappedFactory` so that its protocols are served behind a PROXY
 * protocol (v1 or v2) proxy such as HAProxy (`send-proxy`, `send-proxy-v2`).
 *
 * @remarks
 * The wrapped protocol is connected only once the header has been read, so
 * in its `connectionMade()` `transport.getPeer()` is already the client's
 * address and `transport.getHost()` the address the client connected to.
 * (Twisted's wrapper connects it at once, so a protocol that speaks first
 * greets the proxy, before any header, and sees the proxy's address.)
 *
 * - A `LOCAL` header (a proxy's health check), a v1 `UNKNOWN` one, or a v2
 *   one without addresses leaves the connection's own addresses in place.
 * - A malformed or too long header, or one not finished within
 *   `headerTimeout` seconds, closes the connection with a log line giving
 *   the reason; the wrapped protocol never hears of it.
 * - A connection from outside `trustedProxies` is refused (the wrapped
 *   factory is not asked for a protocol) with a log line.
 * - Each of those three refusals is also passed to `onRefused`, with policy
 *   `haproxy` and reason `untrusted-proxy`, `bad-header` or
 *   `header-timeout`; `peer` is the connection's own (the proxy's) address.
 * - Bytes after the header in the same read reach the wrapped protocol's
 *   `dataReceived` right after its `connectionMade`.
 *
 * The wrapped factory's `buildProtocol(addr)` is called once the header has
 * been read, with the client's address from the header (the connection's own
 * for `LOCAL` and `UNKNOWN`), so a factory that admits or refuses by address
 * judges the client, not the proxy. If it refuses (`null`), the connection
 * is closed.
 */
export class HAProxyWrappingFactory extends WrappingFactory {
  readonly trustedProxies: readonly CIDR[];
  readonly headerTimeout: number;
  readonly #reactor: IReactorTime | undefined;
  readonly #parserOptions: ProxyHeaderParserOptions;
  /** Told of each refusal (policy `haproxy`). */
  readonly onRefused: OnRefused | undefined;

  /** @throws RangeError naming the option that is wrong. */
  constructor(wrappedFactory: IProtocolFactory, options: HAProxyWrappingOptions = {}) {
    super(wrappedFactory);
    const trusted = options.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
    if (!Array.isArray(trusted)) {
      throw new TypeError('trustedProxies: expected an array of CIDR ranges');
    }
    this.trustedProxies = trusted.map((text: unknown, i) => {
      if (typeof text !== 'string') {
        throw new TypeError(`trustedProxies[${String(i)}]: expected a string, got ${typeof text}`);
      }
      return parseCIDR(text, `trustedProxies[${String(i)}]`);
    });
    const timeout = options.headerTimeout ?? DEFAULT_HEADER_TIMEOUT;
    if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
      throw new RangeError(
        `headerTimeout: expected a positive number of seconds, got ${String(timeout)}`,
      );
    }
    this.headerTimeout = timeout;
    this.#reactor = options.reactor;
    this.#parserOptions = {
      ...(options.maxV2Length === undefined ? {} : { maxV2Length: options.maxV2Length }),
      ...(options.verifyChecksum === undefined ? {} : { verifyChecksum: options.verifyChecksum }),
    };
    new ProxyHeaderParser(this.#parserOptions); // checks maxV2Length now, not per connection
    this.onRefused = checkOnRefused('HAProxyWrappingFactory', options.onRefused);
  }

  /** The reactor that times headers. */
  get reactor(): IReactorTime {
    return this.#reactor ?? getReactor();
  }

  /** Whether headers from `addr` are believed. */
  isTrusted(addr: IAddress): boolean {
    if (addr.family === 'UNIX') return true;
    return this.trustedProxies.some((range) => cidrContains(range, addr.host));
  }

  /**
   * Refuses (`null`) a connection from an untrusted address; otherwise a
   * wrapper that reads the header and only then asks the wrapped factory for
   * a protocol.
   */
  override buildProtocol(addr: IAddress): IProtocol | null {
    if (!this.isTrusted(addr)) {
      const error = new UntrustedProxyError(
        `refused a connection from ${addr.toString()}: not in trustedProxies (${this.trustedProxies.map((r) => r.text).join(', ') || 'none'})`,
      );
      log.warn(error.message, { peer: addr.toString(), code: error.code });
      notifyRefused(this.onRefused, { policy: 'haproxy', peer: addr, reason: 'untrusted-proxy' });
      return null;
    }
    return new HAProxyProtocol(this, new ProxyHeaderParser(this.#parserOptions));
  }

  /**
   * False: the header parser copies the bytes it waits with, and the bytes
   * after the header reach the wrapped protocol within the same call, so a
   * wrapped factory's opt-in to the shared read buffer holds through this one.
   */
  protected override keepsReceivedData(): boolean {
    return false;
  }

  /** Not used: {@link HAProxyWrappingFactory.buildProtocol} builds the wrapped protocol after the header. */
  protected override wrapProtocol(wrapped: IProtocol, addr: IAddress): ProtocolWrapper {
    void addr;
    return new ProtocolWrapper(this, wrapped);
  }
}

/**
 * The wrapper of one connection: reads the header, then asks the wrapped
 * factory for a protocol for the client's address and presents the
 * connection to it. `proxyHeader` is the header read (its TLVs included),
 * for a protocol that wants more than the addresses:
 * `(transport as HAProxyProtocol).proxyHeader`.
 */
export class HAProxyProtocol extends ProtocolWrapper {
  /** The header, once read; `null` before. */
  proxyHeader: ProxyHeader | null = null;
  #parser: ProxyHeaderParser | null;
  #timer: IDelayedCall | null = null;
  #wrappedConnected = false;

  constructor(
    override readonly factory: HAProxyWrappingFactory,
    parser: ProxyHeaderParser,
  ) {
    super(factory, null);
    this.#parser = parser;
  }

  /** Attaches the transport and starts the header timer; the wrapped protocol waits for the header. */
  override makeConnection(transport: ITransport): void {
    this.attachTransport(transport);
    this.#timer = this.factory.reactor.callLater(this.factory.headerTimeout, () => {
      this.#timer = null;
      this.#refuse(
        new ProxyHeaderTimeoutError(
          `no complete PROXY header within ${String(this.factory.headerTimeout)} s (${String(this.#parser?.buffered ?? 0)} bytes received)`,
        ),
      );
    });
  }

  override dataReceived(data: Buffer): void {
    const parser = this.#parser;
    if (parser === null) {
      if (this.#wrappedConnected) super.dataReceived(data);
      return; // refused: bytes still in flight are dropped
    }
    const result = parser.feed(data);
    if (result.kind === 'incomplete') return;
    this.#parser = null;
    this.#cancelTimer();
    if (result.kind === 'error') {
      this.#refuse(result.error);
      return;
    }
    this.proxyHeader = result.header;
    const peer = this.getPeer();
    const wrapped = this.factory.wrappedFactory.buildProtocol(peer);
    if (wrapped === null) {
      log.info(`closed a connection from ${peer.toString()}: the factory refused it`, {
        peer: peer.toString(),
        proxy: this.transport.getPeer().toString(),
      });
      this.transport.loseConnection();
      return;
    }
    this.setWrappedProtocol(wrapped);
    this.#wrappedConnected = true;
    this.connectWrapped();
    if (result.rest.length > 0 && this.connected) super.dataReceived(result.rest);
  }

  /** The client's address from the header; the connection's own when the header has none. */
  override getPeer(): IAddress {
    return this.proxyHeader?.source ?? super.getPeer();
  }

  /** The address the client connected to, from the header; the connection's own when it has none. */
  override getHost(): IAddress {
    return this.proxyHeader?.destination ?? super.getHost();
  }

  /** Tells the wrapped protocol only if it was connected: one refused before its header never was. */
  override connectionLost(reason: Failure): void {
    this.#cancelTimer();
    if (this.#parser !== null) {
      log.debug('a connection ended before its PROXY header', {
        peer: this.transport.getPeer().toString(),
        received: this.#parser.buffered,
        reason: reason.getErrorMessage(),
      });
    }
    this.#parser = null;
    if (this.#wrappedConnected) {
      super.connectionLost(reason);
    } else {
      this.connected = false;
      this.factory.unregisterProtocol(this);
    }
  }

  #cancelTimer(): void {
    if (this.#timer !== null) {
      this.#timer.cancel();
      this.#timer = null;
    }
  }

  #refuse(error: ProxyHeaderError | ProxyHeaderTimeoutError): void {
    this.#parser = null;
    const peer = this.transport.getPeer();
    log.warn(`closed a connection from ${peer.toString()}: ${error.message}`, {
      peer: peer.toString(),
      code: error.code,
    });
    this.transport.loseConnection();
    notifyRefused(this.factory.onRefused, {
      policy: 'haproxy',
      peer,
      reason: error instanceof ProxyHeaderTimeoutError ? 'header-timeout' : 'bad-header',
    });
  }
}
