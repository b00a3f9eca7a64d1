/**
 * What a reactor has open: listening ports, connection attempts and
 * connections. Shutdown closes everything listed here and waits until the
 * lists are empty; ports, connectors and transports add and remove
 * themselves as they open and close.
 *
 * Tests: test/node-reactor.test.ts (shutdown), test/tcp.integration.test.ts
 * @module
 */
import type { Failure } from '../failure.js';
import type { TCPConnector } from './tcp-connector.js';
import type { TCPPort } from './tcp-port.js';
import type { TCPTransport, TransportOwner } from './tcp-transport.js';

/** The open resources of one reactor. */
export class Registry implements TransportOwner {
  readonly ports = new Set<TCPPort>();
  readonly connectors = new Set<TCPConnector>();
  readonly transports = new Set<TCPTransport>();
  /** Write high-water mark given to new transports, in bytes. */
  readonly writeHighWaterMark: number;
  /** Once true, nothing new may be opened: the reactor has stopped. */
  closed = false;
  #onEmpty: (() => void) | null = null;

  constructor(writeHighWaterMark: number) {
    this.writeHighWaterMark = writeHighWaterMark;
  }

  /** True when no port, connection attempt or connection is open. */
  get empty(): boolean {
    return this.ports.size === 0 && this.connectors.size === 0 && this.transports.size === 0;
  }

  /** Calls `callback` once, as soon as {@link Registry.empty} holds (now, if it does). */
  whenEmpty(callback: () => void): void {
    if (this.empty) {
      callback();
      return;
    }
    this.#onEmpty = callback;
  }

  /** Forgets a pending {@link Registry.whenEmpty} callback. */
  cancelWhenEmpty(): void {
    this.#onEmpty = null;
  }

  addTransport(transport: TCPTransport): void {
    this.transports.add(transport);
  }

  /** A transport's connection is gone (its protocol's connectionLost already ran). */
  transportClosed(transport: TCPTransport, reason: Failure): void {
    void reason;
    this.transports.delete(transport);
    this.#check();
  }

  addPort(port: TCPPort): void {
    this.ports.add(port);
  }

  portClosed(port: TCPPort): void {
    this.ports.delete(port);
    this.#check();
  }

  connectorStarted(connector: TCPConnector): void {
    this.connectors.add(connector);
  }

  connectorFinished(connector: TCPConnector): void {
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
