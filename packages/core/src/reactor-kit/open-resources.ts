/**
 * What a reactor has open: listening ports, connection attempts and
 * connections. Shutdown closes everything listed here and waits until the
 * lists are empty; ports, connectors and transports add and remove
 * themselves as they open and close. Every reactor built on
 * {@link ReactorBase} shares this bookkeeping, so shutdown behaves the same
 * whatever the I/O underneath.
 *
 * Tests: test/reactor-kit/reactor-base.test.ts, test/node-reactor.test.ts (shutdown)
 * @module
 */
import type { Failure } from '../failure.js';
import type { IAddress } from '../address.js';
import type { IConnector, IListeningPort, IStreamTransport } from '../interfaces.js';

/** The open resources of one reactor. */
export class OpenResources {
  readonly ports = new Set<IListeningPort<IAddress>>();
  readonly connectors = new Set<IConnector>();
  readonly transports = new Set<IStreamTransport>();
  /** Once true, nothing new may be opened: the reactor has stopped. */
  closed = false;
  #onEmpty: (() => void) | null = null;

  /** True when no port, connection attempt or connection is open. */
  get empty(): boolean {
    return this.ports.size === 0 && this.connectors.size === 0 && this.transports.size === 0;
  }

  /** Calls `callback` once, as soon as {@link OpenResources.empty} holds (now, if it does). */
  whenEmpty(callback: () => void): void {
    if (this.empty) {
      callback();
      return;
    }
    this.#onEmpty = callback;
  }

  /** Forgets a pending {@link OpenResources.whenEmpty} callback. */
  cancelWhenEmpty(): void {
    this.#onEmpty = null;
  }

  /** A connection was established. */
  addTransport(transport: IStreamTransport): void {
    this.transports.add(transport);
  }

  /** A transport's connection is gone (its protocol's connectionLost already ran). */
  transportClosed(transport: IStreamTransport, reason: Failure): void {
    void reason;
    this.transports.delete(transport);
    this.#check();
  }

  /** A port started listening (or started binding). */
  addPort(port: IListeningPort<IAddress>): void {
    this.ports.add(port);
  }

  /** A port is closed for good. */
  portClosed(port: IListeningPort<IAddress>): void {
    this.ports.delete(port);
    this.#check();
  }

  /** A connection attempt began. */
  connectorStarted(connector: IConnector): void {
    this.connectors.add(connector);
  }

  /** A connection attempt ended (failed, or its connection closed). */
  connectorFinished(connector: IConnector): void {
    this.connectors.delete(connector);
    this.#check();
  }

  #check(): void {
    const callback = this.#onEmpty;
    if (callback !== null && this.empty) {
      this.#onEmpty = null;
      callback();
    }
  }
}
