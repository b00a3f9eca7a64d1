/**
 * `WrappingFactory`: a factory that wraps every protocol another factory
 * builds in a {@link ProtocolWrapper}, and keeps the set of live wrappers.
 * The base of every policy in this package.
 *
 * Tests: test/protocol-wrapper.test.ts, test/protocol-wrapper.integration.test.ts
 * @module
 */
import type {
  Failure,
  IAddress,
  IClientFactory,
  IConnector,
  IProtocol,
  IProtocolFactory,
  ISharedReadBufferFactory,
} from '@torsion/core';

import { ProtocolWrapper, type IWrapperRegistry } from './protocol-wrapper.js';

/**
 * Wraps `wrappedFactory`: `buildProtocol` asks it for a protocol and returns
 * that protocol wrapped by {@link WrappingFactory.wrapProtocol} (a plain
 * {@link ProtocolWrapper} unless overridden); a `null` from it (a refusal)
 * stays `null`. Start and stop, and the client callbacks when the wrapped
 * factory has them, are passed on, so it can stand in for the wrapped
 * factory anywhere, as a server or a client factory.
 */
export class WrappingFactory implements IClientFactory, IWrapperRegistry, ISharedReadBufferFactory {
  /** The wrappers whose connections are up now. */
  readonly protocols = new Set<ProtocolWrapper>();

  constructor(readonly wrappedFactory: IProtocolFactory) {}

  /**
   * The wrapped factory's opt-in to the Node reactor's shared read buffer
   * (`ISharedReadBufferFactory`: `data` is valid only during
   * `dataReceived`), passed on unless this factory's wrappers keep received
   * bytes past the call ({@link WrappingFactory.keepsReceivedData}). Read
   * when a port starts listening.
   */
  get readsIntoSharedBuffer(): boolean {
    return (
      !this.keepsReceivedData() &&
      (this.wrappedFactory as Partial<ISharedReadBufferFactory>).readsIntoSharedBuffer === true
    );
  }

  /**
   * Whether this factory's wrappers keep a reference to the `data` they are
   * given after `dataReceived` returns (a queue, a parser's buffer). False:
   * the wrappers here pass each chunk on, or count it, within the call.
   * A subclass whose wrapper keeps bytes either copies them or returns true.
   */
  protected keepsReceivedData(): boolean {
    return false;
  }

  doStart(): void {
    this.wrappedFactory.doStart();
  }

  doStop(): void {
    this.wrappedFactory.doStop();
  }

  /** Builds the wrapped factory's protocol for `addr` and wraps it; `null` if it refused. */
  buildProtocol(addr: IAddress): IProtocol | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    if (wrapped === null) return null;
    return this.wrapProtocol(wrapped, addr);
  }

  /** The wrapper for one protocol; override to use a {@link ProtocolWrapper} subclass. */
  protected wrapProtocol(wrapped: IProtocol, addr: IAddress): ProtocolWrapper {
    void addr;
    return new ProtocolWrapper(this, wrapped);
  }

  /** A wrapper's connection is up. */
  registerProtocol(wrapper: ProtocolWrapper): void {
    this.protocols.add(wrapper);
  }

  /** A wrapper's connection is gone. */
  unregisterProtocol(wrapper: ProtocolWrapper): void {
    this.protocols.delete(wrapper);
  }

  startedConnecting(connector: IConnector): void {
    (this.wrappedFactory as Partial<IClientFactory>).startedConnecting?.(connector);
  }

  clientConnectionFailed(connector: IConnector, reason: Failure): void {
    (this.wrappedFactory as Partial<IClientFactory>).clientConnectionFailed?.(connector, reason);
  }

  clientConnectionLost(connector: IConnector, reason: Failure): void {
    (this.wrappedFactory as Partial<IClientFactory>).clientConnectionLost?.(connector, reason);
  }
}
