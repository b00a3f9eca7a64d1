/**
 * `SimulatedUNIXConnector`: an outgoing UNIX-domain connection on a virtual
 * host, to a path in that same host's files, with the callbacks and failure
 * reasons of the real UNIX connector (both are {@link BaseConnector}s). The
 * path is looked up on the next turn: no file (ENOENT) and a stale one
 * (ECONNREFUSED) are a ConnectionRefusedError with that cause, as is a
 * `checkPID` connect with no live `<path>.lock`; a listening port accepts,
 * and the attempt succeeds when its SYN-ACK arrives (under the host's link
 * conditions with itself, as a TCP connection to its own address).
 *
 * Tests: test/testing/simulated/simulated-unix.test.ts, and the UNIX section of
 * the conformance suite on the simulated reactor
 * @module
 */
import { UNIXAddress } from '../../address.js';
import { ConnectionRefusedError } from '../../errors.js';
import type { IClientFactory, IProtocol, IReactorTime } from '../../interfaces.js';
import { systemError } from '../../internal/system-error.js';
import { Logger } from '../../log.js';
import { BaseConnector } from '../../reactor-kit/base-connector.js';
import type { OpenResources } from '../../reactor-kit/open-resources.js';
import { networkClock } from './simulated-connector.js';
import type { SimulatedHost } from './simulated-host.js';
import type { SimulatedNetwork } from './simulated-network.js';
import type { SimulatedTransport } from './simulated-transport.js';
import { SimulatedUNIXPort } from './simulated-unix-port.js';

const log = new Logger('torsion.simulated');

/** Where and how a {@link SimulatedUNIXConnector} connects. @internal */
export interface SimulatedUNIXConnectorSettings {
  readonly from: SimulatedHost;
  readonly path: string;
  readonly timeout: number;
  readonly checkPID: boolean;
  /** The reactor making the connector (a reconnecting factory retries on it). */
  readonly reactor?: IReactorTime;
}

/** What `connectUNIX` returns on a {@link SimulatedReactor} or a {@link SimulatedHost}. */
export class SimulatedUNIXConnector extends BaseConnector<SimulatedTransport<UNIXAddress>> {
  readonly #network: SimulatedNetwork;
  readonly #settings: SimulatedUNIXConnectorSettings;
  /** Bumped when an attempt ends, so late events of an old attempt are ignored. */
  #attempt = 0;
  #pending: SimulatedTransport<UNIXAddress> | null = null;

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    factory: IClientFactory,
    settings: SimulatedUNIXConnectorSettings,
  ) {
    super({
      resources: open,
      clock: networkClock(network),
      ...(settings.reactor === undefined ? {} : { reactor: settings.reactor }),
      factory,
      destination: new UNIXAddress(settings.path),
      timeout: settings.timeout,
      log,
    });
    this.#network = network;
    this.#settings = settings;
  }

  /** The host this connector connects from (and whose files it looks in). */
  get from(): SimulatedHost {
    return this.#settings.from;
  }

  /** Looks the path up on the next turn. */
  protected startAttempt(): void {
    this.#network.schedule(0, SimulatedUNIXConnector.#lookUp, this, this.#attempt);
  }

  /** Forgets the attempt; an accepted end whose SYN-ACK is still on its way is abandoned. */
  protected abandonAttempt(): void {
    this.#attempt++;
    const pending = this.#pending;
    this.#pending = null;
    pending?._abandon();
  }

  /** Attaches the protocol to the client end. */
  protected startTransport(transport: SimulatedTransport<UNIXAddress>, protocol: IProtocol): void {
    transport._start(protocol);
  }

  static #lookUp(connector: SimulatedUNIXConnector, attempt: number): void {
    if (attempt !== connector.#attempt) return;
    const { from, path, checkPID } = connector.#settings;
    const files = from.unixFiles;
    const destination = connector.getDestination().toString();
    if (checkPID && !files._lockHeld(path)) {
      connector.attemptFailed(
        new ConnectionRefusedError(
          `Connection to ${destination} was refused: no live process holds ${path}.lock (checkPID)`,
        ),
      );
      return;
    }
    const found = files._lookup(path);
    const connection = found instanceof SimulatedUNIXPort ? found._accept(connector) : null;
    if (connection === null) {
      const code = found === 'absent' ? 'ENOENT' : 'ECONNREFUSED';
      const why = code === 'ENOENT' ? 'no such socket file' : 'nothing is listening';
      connector.#network.record('refused', null, path, from.address);
      connector.attemptFailed(
        new ConnectionRefusedError(`Connection to ${destination} was refused: ${why}`, {
          cause: systemError(code, `connect ${code} ${path}`),
        }),
      );
      return;
    }
    const client = connection.client;
    connector.#pending = client;
    client._whenAccepted(() => {
      if (attempt !== connector.#attempt) return;
      connector.#attempt++;
      connector.#pending = null;
      connector.#network.record('connected', connection, client.getHost(), client.getPeer());
      connector.attemptSucceeded(client.getPeer(), () => client);
    });
  }
}
