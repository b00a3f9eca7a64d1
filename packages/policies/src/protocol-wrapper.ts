/**
 * `ProtocolWrapper`: sits between a real transport and the protocol a factory
 * built, so a policy can watch or steer a connection without the protocol
 * knowing. To the real transport it is the protocol; to the wrapped protocol
 * it is the transport.
 *
 * Tests: test/protocol-wrapper.test.ts, test/protocol-wrapper.integration.test.ts
 * @module
 */
import { isDrainable } from '@torsion/core';
import type {
  ClientTLSOptions,
  Failure,
  IAddress,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IStreamTransport,
  ITransport,
  ServerTLSOptions,
  TLSCipher,
  TLSPeerCertificate,
  WriteData,
} from '@torsion/core';

/** What a {@link ProtocolWrapper} needs from the factory that built it. */
export interface IWrapperRegistry {
  /** The wrapper's connection is up (called from `makeConnection`). */
  registerProtocol(wrapper: ProtocolWrapper): void;
  /** The wrapper's connection is gone (called from `connectionLost`, before the wrapped protocol hears it). */
  unregisterProtocol(wrapper: ProtocolWrapper): void;
}

/** Members a real transport may have beyond {@link IStreamTransport}; the wrapper has each one only when the real transport does. */
const OPTIONAL_METHODS = [
  'setTcpNoDelay',
  'getTcpNoDelay',
  'setTcpKeepAlive',
  'getTcpKeepAlive',
  'startTLS',
  'getPeerCertificate',
  'getCipher',
  'getTLSVersion',
] as const;
const OPTIONAL_PROPERTIES = ['secure', 'negotiatedProtocol'] as const;

/** Protocol callbacks a transport looks for by name; the wrapper has each one only when the wrapped protocol does. */
const OPTIONAL_CALLBACKS = [
  'readConnectionLost',
  'writeConnectionLost',
  'handshakeCompleted',
  'tlsStarting',
] as const;

/**
 * Wraps one protocol. Every transport call the wrapped protocol makes goes
 * through the wrapper's methods, and every event the real transport delivers
 * goes through the wrapper's callbacks, so a subclass overrides only what its
 * policy changes (count bytes in `dataReceived`/`write`, substitute
 * addresses in `getHost`/`getPeer`, and so on).
 *
 * The wrapper presents exactly the capabilities of what it sits between:
 * - to the real transport, the half-close callbacks (`readConnectionLost`,
 *   `writeConnectionLost`), `handshakeCompleted` and `tlsStarting` exist
 *   only if the wrapped protocol has them, since transports decide what a
 *   FIN or a TLS switch means by looking for them;
 * - to the wrapped protocol, the TCP options and the TLS members
 *   (`startTLS`, `secure`, `getPeerCertificate`, `negotiatedProtocol`,
 *   `getCipher`, `getTLSVersion`) exist only if the real transport has them.
 *
 * - `serverDraining(deadline)` (the drain hook, `IDrainableProtocol`)
 *   exists only while the wrapped protocol has it, so a runner that drains
 *   finds it through any number of wrappers.
 *
 * Those optional members live on the prototype, as getters that look at the
 * real transport or the wrapped protocol when asked and return one forwarder
 * shared by every wrapper (or `undefined`): a wrapper costs its few fields,
 * not a closure per member per connection. The forwarders use `this`, so
 * call them as methods (`t.setTcpNoDelay(true)`), not detached.
 *
 * A protocol that registers its transport (this wrapper) as its own
 * streaming producer — echo does, so its reads stop while its writes back
 * up — registers the real transport instead: a transport treats itself as
 * producer specially (it does not hold back `loseConnection()`), and the
 * wrapper's producer methods only forward to it.
 *
 * An exception thrown by the wrapped protocol passes through to the real
 * transport, which logs it once and closes that connection, as it would
 * without the wrapper.
 */
export class ProtocolWrapper implements IProtocol, IStreamTransport {
  /** The real transport; null before `makeConnection`. */
  #transport: IStreamTransport | null = null;
  /** The protocol presented the connection; null until a late-binding subclass sets it. */
  #wrapped: IProtocol | null = null;
  /** True from `makeConnection` until the connection is lost. */
  connected = false;

  // Present only when the real transport has them (see the class comment).
  declare setTcpNoDelay?: (enabled: boolean) => void;
  declare getTcpNoDelay?: () => boolean;
  declare setTcpKeepAlive?: (enabled: boolean, initialDelaySeconds?: number) => void;
  declare getTcpKeepAlive?: () => boolean;
  declare startTLS?: (options: ClientTLSOptions | ServerTLSOptions) => void;
  declare readonly secure?: boolean;
  declare getPeerCertificate?: () => TLSPeerCertificate | null;
  declare readonly negotiatedProtocol?: string | null;
  declare getCipher?: () => TLSCipher | null;
  declare getTLSVersion?: () => string | null;
  // Present only when the wrapped protocol has them.
  declare serverDraining?: (deadline: number) => void;
  declare readConnectionLost?: () => void;
  declare writeConnectionLost?: () => void;
  declare handshakeCompleted?: () => void;
  declare tlsStarting?: () => void;

  /**
   * @param wrappedProtocol - the protocol to present the connection to; `null`
   * only from a subclass that builds it later (after reading a header, say)
   * and calls {@link ProtocolWrapper.setWrappedProtocol} before
   * {@link ProtocolWrapper.connectWrapped}.
   */
  constructor(
    /** The factory that built this wrapper; told when the connection starts and ends. */
    readonly factory: IWrapperRegistry,
    wrappedProtocol: IProtocol | null,
  ) {
    if (wrappedProtocol !== null) this.setWrappedProtocol(wrappedProtocol);
  }

  /** The protocol this wrapper presents the connection to. @throws Error before it is set. */
  get wrappedProtocol(): IProtocol {
    if (this.#wrapped === null) {
      throw new Error(`${this.constructor.name} has no wrapped protocol yet`);
    }
    return this.#wrapped;
  }

  /** True once the wrapped protocol is known. */
  get hasWrappedProtocol(): boolean {
    return this.#wrapped !== null;
  }

  /**
   * Sets the wrapped protocol of a wrapper made without one. Its optional
   * callbacks appear on the wrapper at once (they are looked up when asked
   * for), and transports look those up when the event happens.
   * @throws Error if the wrapper already has one.
   */
  protected setWrappedProtocol(wrappedProtocol: IProtocol): void {
    if (this.#wrapped !== null) {
      throw new Error(`${this.constructor.name} already has a wrapped protocol`);
    }
    this.#wrapped = wrappedProtocol;
  }

  /**
   * The real transport. @throws Error before `makeConnection()`.
   */
  get transport(): IStreamTransport {
    if (this.#transport === null) {
      throw new Error(
        `${this.constructor.name} has no transport yet: makeConnection() was not called`,
      );
    }
    return this.#transport;
  }

  /** True once a transport is attached. */
  get hasTransport(): boolean {
    return this.#transport !== null;
  }

  // ------------------------------------------------------------ the protocol side

  /**
   * Attaches the real transport, registers with the factory, exposes the real
   * transport's optional members, then connects the wrapped protocol with
   * this wrapper as its transport. A subclass that must connect the wrapped
   * protocol later (after reading a header, say) overrides this method to
   * call only {@link ProtocolWrapper.attachTransport}, and calls
   * {@link ProtocolWrapper.connectWrapped} when it is ready.
   */
  makeConnection(transport: ITransport): void {
    this.attachTransport(transport);
    this.connectWrapped();
  }

  /** Attaches the real transport and registers with the factory; the wrapped protocol is not connected yet. */
  protected attachTransport(transport: ITransport): void {
    this.#transport = transport as IStreamTransport;
    this.connected = true;
    this.factory.registerProtocol(this);
  }

  /** Connects the wrapped protocol, with this wrapper as its transport. */
  protected connectWrapped(): void {
    this.wrappedProtocol.makeConnection(this);
  }

  /** Nothing: the wrapped protocol's `connectionMade` runs from its own `makeConnection`. */
  connectionMade(): void {}

  /** Passes the bytes to the wrapped protocol. */
  dataReceived(data: Buffer): void {
    this.wrappedProtocol.dataReceived(data);
  }

  /** Unregisters from the factory, then tells the wrapped protocol. */
  connectionLost(reason: Failure): void {
    this.connected = false;
    this.factory.unregisterProtocol(this);
    if ('connected' in this.wrappedProtocol) {
      (this.wrappedProtocol as { connected: unknown }).connected = false;
    }
    this.wrappedProtocol.connectionLost(reason);
  }

  /**
   * Calls one of the wrapped protocol's optional callbacks (half-close, TLS).
   * Override to watch them; the forwarders exist only when the wrapped
   * protocol has the callback.
   */
  protected forwardCallback(name: (typeof OPTIONAL_CALLBACKS)[number]): void {
    (this.wrappedProtocol as unknown as Record<string, () => void>)[name]?.();
  }

  // ------------------------------------------------------------ the transport side

  get disconnecting(): boolean {
    return this.#transport?.disconnecting ?? false;
  }

  write(data: WriteData): void {
    this.transport.write(data);
  }

  /** Each item through {@link ProtocolWrapper.write}, so a subclass that counts writes sees them all. */
  writeSequence(data: Iterable<WriteData>): void {
    for (const item of data) this.write(item);
  }

  loseConnection(): void {
    this.transport.loseConnection();
  }

  abortConnection(): void {
    this.transport.abortConnection();
  }

  loseWriteConnection(): void {
    this.transport.loseWriteConnection();
  }

  /** This end's address; override to present another (a PROXY-protocol header's, say). */
  getHost(): IAddress {
    return this.transport.getHost();
  }

  /** The peer's address; override to present another. */
  getPeer(): IAddress {
    return this.transport.getPeer();
  }

  /** Registers `producer` with the real transport; this wrapper itself as the real transport itself (see the class comment). */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    const transport = this.transport;
    // Through a chain of wrappers, each maps itself to the one below, down to the real transport.
    transport.registerProducer(producer === this ? transport : producer, streaming);
  }

  unregisterProducer(): void {
    this.transport.unregisterProducer();
  }

  /** Stops reading from the peer. */
  pauseProducing(): void {
    this.transport.pauseProducing();
  }

  /** Reads from the peer again. */
  resumeProducing(): void {
    this.transport.resumeProducing();
  }

  stopProducing(): void {
    this.transport.stopProducing();
  }
}

type Members = Record<string, unknown>;

/** The real transport's members, or `undefined` before `makeConnection`. */
function transportOf(wrapper: ProtocolWrapper): Members | undefined {
  return wrapper.hasTransport ? (wrapper.transport as unknown as Members) : undefined;
}

/** The wrapped protocol's members, or `undefined` before it is known. */
function wrappedOf(wrapper: ProtocolWrapper): Members | undefined {
  return wrapper.hasWrappedProtocol ? (wrapper.wrappedProtocol as unknown as Members) : undefined;
}

// The optional members, once on the prototype (see the class comment). A
// subclass that defines one of them as a method of its own overrides the getter.
for (const name of OPTIONAL_METHODS) {
  function forward(this: ProtocolWrapper, ...args: unknown[]): unknown {
    const real = this.transport as unknown as Members;
    return (real[name] as (...a: unknown[]) => unknown).apply(real, args);
  }
  Object.defineProperty(ProtocolWrapper.prototype, name, {
    get(this: ProtocolWrapper) {
      return typeof transportOf(this)?.[name] === 'function' ? forward : undefined;
    },
    configurable: true,
  });
}
for (const name of OPTIONAL_PROPERTIES) {
  Object.defineProperty(ProtocolWrapper.prototype, name, {
    get(this: ProtocolWrapper) {
      return transportOf(this)?.[name];
    },
    configurable: true,
  });
}
for (const name of OPTIONAL_CALLBACKS) {
  // Through forwardCallback, so a subclass may watch the callbacks by overriding it.
  const forward = function (this: ProtocolWrapper): void {
    (this as unknown as { forwardCallback(n: string): void }).forwardCallback(name);
  };
  Object.defineProperty(ProtocolWrapper.prototype, name, {
    get(this: ProtocolWrapper) {
      return typeof wrappedOf(this)?.[name] === 'function' ? forward : undefined;
    },
    configurable: true,
  });
}
function forwardDraining(this: ProtocolWrapper, deadline: number): void {
  const wrapped = this.wrappedProtocol;
  if (isDrainable(wrapped)) wrapped.serverDraining(deadline);
}
Object.defineProperty(ProtocolWrapper.prototype, 'serverDraining', {
  get(this: ProtocolWrapper) {
    const wrapped = wrappedOf(this);
    return wrapped !== undefined && isDrainable(wrapped) ? forwardDraining : undefined;
  },
  configurable: true,
});
