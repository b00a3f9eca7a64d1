/**
 * `Protocol`: the base class users subclass to handle one connection.
 * Every method has a do-nothing default, so a subclass overrides only what it needs.
 *
 * Tests: test/protocol.test.ts, test/types/protocol.test-d.ts
 * @module
 */
import type { Failure } from './failure.js';
import type { IProtocol, IProtocolFactory, ITransport } from './interfaces.js';

/**
 * Handles one connection. The transport calls, in this order:
 * `makeConnection → connectionMade → dataReceived* → connectionLost` (once).
 *
 * @typeParam F - the factory type, so `this.factory` is typed in subclasses.
 * @typeParam T - the transport type (`ITCPTransport` on TCP).
 */
export class Protocol<
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- F types `this.factory` for subclasses
  F extends IProtocolFactory = IProtocolFactory,
  T extends ITransport = ITransport,
> implements IProtocol {
  /** The factory that built this protocol, set by `Factory.buildProtocol`; null if built by hand. */
  factory: F | null = null;
  /** True from `makeConnection` until the connection is lost. */
  connected = false;
  #transport: T | null = null;

  /** The connection's transport. @throws Error before `makeConnection()`. */
  get transport(): T {
    if (this.#transport === null) {
      throw new Error(
        `${this.constructor.name} has no transport yet: makeConnection() was not called`,
      );
    }
    return this.#transport;
  }

  /** True once a transport is attached (it stays attached after the connection is lost). */
  get hasTransport(): boolean {
    return this.#transport !== null;
  }

  /** Attaches the transport and calls {@link Protocol.connectionMade}. Called by transports. */
  makeConnection(transport: ITransport): void {
    this.#transport = transport as T;
    this.connected = true;
    this.connectionMade();
  }

  /** The connection is up. Override to greet the peer or start timers. */
  connectionMade(): void {}

  /**
   * Bytes arrived. Messages may be split over several calls or packed into
   * one: test your override with chunks of every size, down to one byte.
   */
  dataReceived(data: Buffer): void {
    void data;
  }

  /** The connection is gone; `reason` wraps ConnectionDone (clean) or ConnectionLost. */
  connectionLost(reason: Failure): void {
    void reason;
  }
}

/** A protocol class, as a factory's `protocol` property holds it. */
export type ProtocolClass<P extends IProtocol = IProtocol> = new () => P;
