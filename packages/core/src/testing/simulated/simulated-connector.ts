/**
 * `SimulatedConnector`: an outgoing connection on a {@link SimulatedNetwork},
 * with the callbacks and failure reasons of the real TCP connector (both are
 * {@link BaseConnector}s; this file is the simulated handshake). The name
 * is resolved against the network's hosts (DNSLookupError when unknown), the
 * SYN crosses the link, and the attempt ends in a connection (one round
 * trip), ConnectionRefusedError (nothing listens, or the port is refused:
 * also one round trip), ConnectBindError (a `bindAddress` the host cannot
 * bind), or TimeoutError (the address has no host, or a partition holds the
 * SYN until the timeout).
 *
 * Tests: test/testing/simulated/simulated-reactor.test.ts
 * @module
 */
import { addressFor, IPv4Address } from '../../address.js';
import type { INETAddress } from '../../address.js';
import { BaseConnector } from '../../reactor-kit/base-connector.js';
import type { DelayedCall } from '../../delayed-call.js';
import { ConnectBindError, ConnectionRefusedError, DNSLookupError } from '../../errors.js';
import type { IClientFactory, IProtocol, IReactorTime } from '../../interfaces.js';
import { Logger } from '../../log.js';
import type { OpenResources } from '../../reactor-kit/open-resources.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';
import { systemError } from '../../internal/system-error.js';
import type { SimulatedConnection, SimulatedTransport } from './simulated-transport.js';

const log = new Logger('torsion.simulated');

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/**
 * The clock a simulated connector times its attempts by: network events, not
 * the reactor's delayed calls, so the timeout is not in getDelayedCalls().
 * @internal
 */
export function networkClock(network: SimulatedNetwork): {
  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall;
} {
  return {
    callLater<A extends unknown[]>(
      delaySeconds: number,
      fn: (...args: A) => unknown,
      ...args: A
    ): DelayedCall {
      return network.schedule(delaySeconds, fn, ...args);
    },
  };
}

/** Where and how a {@link SimulatedConnector} connects. @internal */
export interface SimulatedConnectorSettings {
  readonly from: SimulatedHost;
  readonly host: string;
  readonly port: number;
  readonly timeout: number;
  readonly bindAddress?: { readonly host: string; readonly port?: number };
  /** The reactor making the connector (a reconnecting factory retries on it). */
  readonly reactor?: IReactorTime;
}

/**
 * What `connectTCP` returns on a {@link SimulatedReactor}.
 *
 * @remarks
 * As the TCP connector: `factory.doStart()` when an attempt starts from
 * idle, `startedConnecting`, then `clientConnectionFailed` or (once the
 * connection ends) `clientConnectionLost`, and `factory.doStop()` when the
 * factory did not reconnect from that callback. Failures are always reported
 * on a later turn, never from inside `connectTCP`.
 */
// Also a SimulatedTransportOwner, checked structurally where a connection is
// given one: an `implements` of an internal interface would dangle in the
// published declarations.
export class SimulatedConnector extends BaseConnector<SimulatedTransport> {
  readonly #network: SimulatedNetwork;
  readonly #settings: SimulatedConnectorSettings;
  /** Bumped when an attempt ends, so late events of an old attempt are ignored. */
  #attempt = 0;
  #pending: SimulatedTransport | null = null;
  #localPort: number | null = null;

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    factory: IClientFactory,
    settings: SimulatedConnectorSettings,
  ) {
    super({
      resources: open,
      clock: networkClock(network),
      ...(settings.reactor === undefined ? {} : { reactor: settings.reactor }),
      factory,
      destination: addressFor('TCP', settings.host, settings.port),
      timeout: settings.timeout,
      log,
    });
    this.#network = network;
    this.#settings = settings;
  }

  /** The host this connector connects from. */
  get from(): SimulatedHost {
    return this.#settings.from;
  }

  // ------------------------------------------------------------ BaseConnector's I/O

  /** Sends the SYN on the next turn. */
  protected startAttempt(): void {
    this.#network.schedule(0, SimulatedConnector.#sendSyn, this, this.#attempt);
  }

  /** Forgets the attempt; an accepted end whose SYN-ACK is still on its way is abandoned. */
  protected abandonAttempt(): void {
    this.#attempt++;
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) {
      // Accepted, but the SYN-ACK had not arrived: a late one is answered with RST.
      pending._abandon();
    } else if (this.#localPort !== null) {
      this.#network.releasePort(this.#settings.from, this.#localPort);
    }
    this.#localPort = null;
  }

  /** Records the timeout in the network's trace, then fails the attempt. */
  protected override attemptTimedOut(): void {
    this.#network.record(
      'timeout',
      null,
      this.#settings.from.address,
      this.getDestination().toString(),
    );
    super.attemptTimedOut();
  }

  /** Attaches the protocol to the client end. */
  protected startTransport(transport: SimulatedTransport, protocol: IProtocol): void {
    transport._start(protocol);
  }

  // ------------------------------------------------------------ the handshake

  static #sendSyn(connector: SimulatedConnector, attempt: number): void {
    if (attempt !== connector.#attempt) return;
    const network = connector.#network;
    const { from, host, port, bindAddress } = connector.#settings;
    const resolved = network.resolve(host);
    if (resolved === undefined) {
      network.record('dns-failed', null, from.address, host);
      connector.attemptFailed(
        new DNSLookupError(`DNS lookup failed for ${host}: no simulated host has that name`, {
          cause: systemError('ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`),
        }),
      );
      return;
    }
    if (
      bindAddress !== undefined &&
      !WILDCARDS.has(bindAddress.host) &&
      bindAddress.host !== from.address
    ) {
      connector.attemptFailed(
        new ConnectBindError(`Could not bind to ${bindAddress.host}`, {
          cause: systemError(
            'EADDRNOTAVAIL',
            `${bindAddress.host} is not an address of ${from.toString()}`,
          ),
        }),
      );
      return;
    }
    const localPort =
      bindAddress?.port !== undefined
        ? network.reservePort(from, bindAddress.port)
          ? bindAddress.port
          : undefined
        : network.allocatePort(from);
    if (localPort === undefined) {
      connector.attemptFailed(
        new ConnectBindError(`Could not bind a local port on ${from.toString()}`, {
          cause: systemError('EADDRINUSE', 'address already in use'),
        }),
      );
      return;
    }
    connector.#localPort = localPort;
    const clientAddress = new IPv4Address('TCP', from.address, localPort);
    network.record('syn', null, clientAddress, `${resolved.address}:${String(port)}`);
    const target = resolved.host;
    // No host has the address: the SYN goes nowhere and the timeout decides.
    if (target === undefined) return;
    network.sendControl(from, target, () => {
      connector.#synArrived(attempt, target, clientAddress);
    });
  }

  #synArrived(attempt: number, target: SimulatedHost, clientAddress: INETAddress): void {
    // The attempt ended meanwhile (timeout, cancel): the SYN finds no one waiting for an answer.
    if (attempt !== this.#attempt) return;
    const network = this.#network;
    const port = this.#settings.port;
    const listening = network.isRefused(target, port) ? undefined : network.portAt(target, port);
    const connection = listening?._accept(this.#settings.from, clientAddress, this) ?? null;
    if (connection === null) {
      network.record('refused', null, `${target.address}:${String(port)}`, clientAddress);
      network.sendControl(target, this.#settings.from, () => {
        if (attempt !== this.#attempt) return;
        this.attemptFailed(
          new ConnectionRefusedError(
            `Connection to ${this.getDestination().toString()} was refused`,
            {
              cause: systemError(
                'ECONNREFUSED',
                `connect ECONNREFUSED ${target.address}:${String(port)}`,
              ),
            },
          ),
        );
      });
      return;
    }
    const client = connection.client;
    this.#pending = client;
    client._whenAccepted(() => {
      this.#connected(attempt, connection);
    });
  }

  #connected(attempt: number, connection: SimulatedConnection): void {
    if (attempt !== this.#attempt) return;
    this.#attempt++;
    this.#pending = null;
    this.#localPort = null; // released with the connection from now on
    const transport = connection.client;
    this.#network.record('connected', connection, transport.getHost(), transport.getPeer());
    this.connectionEstablished(transport);
  }

  /**
   * The SYN-ACK arrived: the attempt succeeded (a TLS connector runs its
   * handshake first, then calls {@link BaseConnector.attemptSucceeded}).
   */
  protected connectionEstablished(transport: SimulatedTransport): void {
    this.attemptSucceeded(transport.getPeer(), () => transport);
  }
}
