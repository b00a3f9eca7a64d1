/**
 * The client side of the PROXY protocol: `ProxyHeaderClientFactory` wraps a
 * client factory so that every connection starts with a v1 or v2 header,
 * for a Torsion client that relays a connection (or speaks for itself)
 * through a proxy chain whose next hop expects one.
 *
 * Tests: test/client.test.ts, test/wrapping-factory.integration.test.ts
 * @module
 */
import type { IAddress, IProtocol, IProtocolFactory, ITransport } from '@torsion/core';
import { ProtocolWrapper, WrappingFactory } from '@torsion/policies';
import { encodeProxyV1, encodeProxyV2, type ProxyV2Fields } from './encoder.js';
import type { ProxiedAddress } from './header.js';

/** Options of {@link ProxyHeaderClientFactory}. */
export interface ProxyHeaderClientOptions {
  /** The header's version. Default 2. */
  readonly version?: 1 | 2;
  /**
   * The client the connection stands for, and the address it connected to.
   * Both or neither; neither means this connection's own: `getHost()` as the
   * source and `getPeer()` as the destination, as HAProxy's `send-proxy` does.
   */
  readonly source?: ProxiedAddress;
  readonly destination?: ProxiedAddress;
  /**
   * Everything else a v2 header may say (`command`, TLVs, `checksum`); its
   * `source`/`destination`, if any, are replaced by the ones above.
   */
  readonly v2?: Omit<ProxyV2Fields, 'source' | 'destination'>;
}

/**
 * Wraps `wrappedFactory` so that each connection sends a PROXY header before
 * anything the wrapped protocol writes. The wrapped protocol is connected
 * right after the header is written, and sees the real transport's addresses.
 *
 * @remarks
 * An endpoint's `connect()` fires with the wrapper; the protocol the
 * wrapped factory built is its `wrappedProtocol`.
 *
 * @throws TypeError / RangeError, when a connection starts, if the header
 *   cannot be encoded (a v1 header for a UNIX connection, say): that
 *   connection is closed by the transport, which logs the error.
 */
export class ProxyHeaderClientFactory extends WrappingFactory {
  readonly options: ProxyHeaderClientOptions;

  /** @throws TypeError if only one of `source`/`destination` is given, or `version` is not 1 or 2. */
  constructor(wrappedFactory: IProtocolFactory, options: ProxyHeaderClientOptions = {}) {
    super(wrappedFactory);
    if ((options.source === undefined) !== (options.destination === undefined)) {
      throw new TypeError('ProxyHeaderClientFactory: give both source and destination, or neither');
    }
    const version: unknown = options.version ?? 2;
    if (version !== 1 && version !== 2) {
      throw new TypeError(
        `ProxyHeaderClientFactory: version must be 1 or 2, got ${String(version)}`,
      );
    }
    this.options = options;
  }

  /** The header for a connection on `transport`. */
  headerFor(transport: ITransport): Buffer {
    const { version = 2, v2 = {} } = this.options;
    const source = this.options.source ?? transport.getHost();
    const destination = this.options.destination ?? transport.getPeer();
    return version === 1
      ? encodeProxyV1({ source, destination })
      : encodeProxyV2({ ...v2, source, destination });
  }

  protected override wrapProtocol(wrapped: IProtocol, addr: IAddress): ProtocolWrapper {
    void addr;
    return new ProxyHeaderSender(this, wrapped);
  }
}

/** Writes the header, then connects the wrapped protocol. */
class ProxyHeaderSender extends ProtocolWrapper {
  constructor(
    override readonly factory: ProxyHeaderClientFactory,
    wrappedProtocol: IProtocol,
  ) {
    super(factory, wrappedProtocol);
  }

  override makeConnection(transport: ITransport): void {
    this.attachTransport(transport);
    transport.write(this.factory.headerFor(transport));
    this.connectWrapped();
  }
}
