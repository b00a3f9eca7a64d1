/**
 * `Factory`, `ServerFactory` and `ClientFactory`: they build a protocol per
 * connection and hold state shared between connections.
 *
 * Tests: test/factory.test.ts, test/types/protocol.test-d.ts
 * @module
 */
import type { IAddress } from './address.js';
import type { Failure } from './failure.js';
import type { IClientFactory, IConnector, IProtocol, IProtocolFactory } from './interfaces.js';
import { Logger } from './log.js';
import type { ProtocolClass } from './protocol.js';

const log = new Logger('torsion.factory');

/**
 * Builds protocols. Set {@link Factory.protocol} (or use
 * {@link Factory.forProtocol}); override {@link Factory.buildProtocol} for
 * anything more.
 */
export class Factory implements IProtocolFactory {
  /**
   * The class `buildProtocol` instantiates. After
   * {@link Factory.forProtocol}`(P, ...args)` this is `P` itself (code that
   * inspects it sees the class it gave), and `buildProtocol` passes `args`
   * to it; build through `buildProtocol` rather than with `new` on it.
   */
  protocol: ProtocolClass | null = null;
  /** How many ports and connectors use this factory now. */
  numPorts = 0;
  /** Log start and stop at `info` level when true. */
  noisy = false;
  /** The class forProtocol was given, and the arguments buildProtocol passes to it. */
  #boundProtocol: unknown = null;
  #boundArgs: readonly unknown[] = [];

  /**
   * A factory whose protocols are `new protocol(...args)`; its
   * {@link Factory.protocol} is `protocol` itself.
   *
   * The arguments belong to that class: if `factory.protocol` is later set to
   * another class, `buildProtocol` builds it with no arguments (they were
   * written for the other constructor), and setting `protocol` back to the
   * class passed here binds them again.
   *
   * @example `reactor.listenTCP(0, Factory.forProtocol(Echo))`
   */
  static forProtocol<A extends unknown[]>(
    protocol: new (...args: A) => IProtocol,
    ...args: A
  ): Factory {
    const factory = new this();
    // The class itself, not a subclass that binds the arguments: identity is kept.
    factory.protocol = protocol;
    factory.#boundProtocol = protocol;
    factory.#boundArgs = args;
    return factory;
  }

  /** Reference-counted start: calls {@link Factory.startFactory} for the first port only. */
  doStart(): void {
    if (this.numPorts === 0) {
      if (this.noisy) log.info(`Starting factory ${this.constructor.name}`);
      this.startFactory();
    }
    this.numPorts += 1;
  }

  /** Reference-counted stop: calls {@link Factory.stopFactory} when the last port stops. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts -= 1;
    if (this.numPorts === 0) {
      if (this.noisy) log.info(`Stopping factory ${this.constructor.name}`);
      this.stopFactory();
    }
  }

  /** Called once before the first port or connector starts using this factory. */
  startFactory(): void {}

  /** Called once after the last port or connector stopped using this factory. */
  stopFactory(): void {}

  /**
   * Builds the protocol for a new connection and sets its `factory`. Return
   * `null` from an override to refuse the connection.
   * @throws Error if {@link Factory.protocol} is not set.
   */
  buildProtocol(addr: IAddress): IProtocol | null {
    void addr;
    if (this.protocol === null) {
      throw new Error(`${this.constructor.name}.protocol is not set: nothing to build`);
    }
    // Typed to take arguments: after forProtocol it is a class that needs the bound ones.
    const Class: new (...args: readonly unknown[]) => IProtocol = this.protocol;
    const built = Class === this.#boundProtocol ? new Class(...this.#boundArgs) : new Class();
    if ('factory' in built) (built as { factory: unknown }).factory = this;
    return built;
  }
}

/** A factory for listening ports (the same as `Factory`, named for intent). */
export class ServerFactory extends Factory {}

/** A factory for outgoing connections, with the connector callbacks. */
export class ClientFactory extends Factory implements IClientFactory {
  /** A connection attempt began. */
  startedConnecting(connector: IConnector): void {
    void connector;
  }

  /** The attempt failed; `reason` wraps a ConnectError (TimeoutError and UserError are ones). */
  clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void connector;
    void reason;
  }

  /** An established connection ended. */
  clientConnectionLost(connector: IConnector, reason: Failure): void {
    void connector;
    void reason;
  }
}
