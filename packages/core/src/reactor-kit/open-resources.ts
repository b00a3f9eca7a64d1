/**
 * What a reactor has open: listening ports, connection attempts and
 * connections. Shutdown closes everything listed here and waits until the
 * lists are empty; ports, connectors and transports add and remove
 * themselves as they open and close. Every reactor built on
 * {@link ReactorBase} shares this bookkeeping, so shutdown behaves the same
 * whatever the I/O underneath.
 *
 * A connection a port accepted is listed once, in its port's own set
 * (`IListeningPort.connections()`); here only a count and the ports that
 * still hold connections are kept. Why: with tens of thousands of idle
 * connections a second set entry each is measurable (65–130 bytes per
 * connection in JavaScriptCore's `Set`, see docs/performance.md), and the
 * port's list is the one the drain and the metrics read anyway.
 *
 * Tests: test/reactor-kit/reactor-base.test.ts, test/node-reactor.test.ts (shutdown)
 * @module
 */
import type { Failure } from '../failure.js';
import type { IAddress } from '../address.js';
import type { IConnector, IListeningPort, IStreamTransport } from '../interfaces.js';

/** A port as its reactor's open resources see it: it lists its own accepted connections. */
export interface IConnectionHolder {
  /** Its accepted connections that are still open. */
  connections(): Iterable<IStreamTransport>;
  /** How many there are. */
  readonly connectionCount: number;
}

/** The open resources of one reactor. */
export class OpenResources {
  readonly ports = new Set<IListeningPort<IAddress>>();
  readonly connectors = new Set<IConnector>();
  /** Connections made by connectors (a port's accepted ones are listed by the port: see {@link OpenResources.connections}). */
  readonly transports = new Set<IStreamTransport>();
  /** Once true, nothing new may be opened: the reactor has stopped. */
  closed = false;
  #onEmpty: (() => void) | null = null;
  /** Ports, listening or stopped, that hold accepted connections still open. */
  readonly #holders = new Set<IConnectionHolder>();
  #accepted = 0;

  /** True when no port, connection attempt or connection is open. */
  get empty(): boolean {
    return (
      this.ports.size === 0 &&
      this.connectors.size === 0 &&
      this.transports.size === 0 &&
      this.#accepted === 0
    );
  }

  /** How many connections are open, made or accepted. */
  get connectionCount(): number {
    return this.transports.size + this.#accepted;
  }

  /** Every open connection: the connectors', then each port's accepted ones. A live view; copy it to close them. */
  *connections(): IterableIterator<IStreamTransport> {
    yield* this.transports;
    for (const holder of this.#holders) yield* holder.connections();
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

  /** A connector's connection was established. */
  addTransport(transport: IStreamTransport): void {
    this.transports.add(transport);
  }

  /** A connector's connection is gone (its protocol's connectionLost already ran). */
  transportClosed(transport: IStreamTransport, reason: Failure): void {
    void reason;
    this.transports.delete(transport);
    this.#check();
  }

  /** `port` accepted a connection and listed it in its own `connections()`. */
  addAccepted(port: IConnectionHolder): void {
    this.#accepted += 1;
    this.#holders.add(port);
  }

  /** One of `port`'s accepted connections is gone, already removed from the port's list. */
  acceptedClosed(port: IConnectionHolder, reason: Failure): void {
    void reason;
    this.#accepted -= 1;
    if (port.connectionCount === 0) this.#holders.delete(port);
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
