/**
 * `UNIXConnector`: an outgoing UNIX-domain connection that can be retried.
 * {@link BaseConnector} keeps the state, the timeout and the factory's
 * callbacks, NetSocketConnector the attempt's `net.Socket`; this connects it
 * to the path and maps Node's connect errors to Torsion's ConnectError family: no file (ENOENT) and nothing
 * listening (ECONNREFUSED) are both a ConnectionRefusedError, as a closed TCP
 * port is. With `checkPID` the attempt is refused before any connect unless
 * `<path>.lock` names a live process.
 *
 * Tests: test/unix.integration.test.ts, and the UNIX section of the
 * conformance suite (@torsion/reactor-conformance) on the Node reactor
 * @module
 */
import type { NetConnectOpts, Socket } from 'node:net';
import { UNIXAddress } from '../address.js';
import { errorCode } from '../error-code.js';
import { ConnectionRefusedError, type ConnectError } from '../errors.js';
import type { IClientFactory, IProtocol, IReactorTime } from '../interfaces.js';
import { Logger } from '../log.js';
import { NetSocketConnector } from './net-socket-connector.js';
import type { Registry } from './registry.js';
import { connectErrorFor } from './tcp-connector.js';
import type { TransportOwner } from './tcp-transport.js';
import { isLocked, lockPathFor } from './unix-lock.js';
import { UNIXTransport } from './unix-transport.js';

const log = new Logger('torsion.unix');

/** `connectUNIX` options after the reactor's checks. */
export interface UNIXConnectorSettings {
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  readonly checkPID: boolean;
}

/** The client's own end, which the kernel reports without a name. */
const UNNAMED = new UNIXAddress(null);

/**
 * Classifies a Node error connecting to a UNIX socket: ENOENT and
 * ECONNREFUSED are ConnectionRefusedError; the rest as for TCP.
 */
export function unixConnectErrorFor(err: Error, destination: string): ConnectError {
  const code = errorCode(err);
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    const why = code === 'ENOENT' ? 'no such socket file' : 'nothing is listening';
    return new ConnectionRefusedError(`Connection to ${destination} was refused: ${why}`, {
      cause: err,
    });
  }
  return connectErrorFor(err, destination);
}

/** An outgoing UNIX-domain connection, created by `reactor.connectUNIX()`. */
export class UNIXConnector extends NetSocketConnector<UNIXTransport> implements TransportOwner {
  readonly #registry: Registry;
  readonly #path: string;
  readonly #checkPID: boolean;
  #refusal: NodeJS.Immediate | null = null;

  constructor(
    registry: Registry,
    clock: IReactorTime,
    path: string,
    factory: IClientFactory,
    settings: UNIXConnectorSettings,
  ) {
    super({
      resources: registry,
      clock,
      reactor: clock,
      factory,
      destination: new UNIXAddress(path),
      timeout: settings.timeout,
      log,
    });
    this.#registry = registry;
    this.#path = path;
    this.#checkPID = settings.checkPID;
  }

  protected override startAttempt(): void {
    if (this.#checkPID && !isLocked(lockPathFor(this.#path))) {
      // Reported on a later turn, as every attempt's outcome is.
      this.#refusal = setImmediate(() => {
        this.#refusal = null;
        this.attemptFailed(
          new ConnectionRefusedError(
            `Connection to ${this.getDestination().toString()} was refused: no live process holds ${lockPathFor(this.#path)} (checkPID)`,
          ),
        );
      });
      return;
    }
    super.startAttempt();
  }

  protected override abandonAttempt(): void {
    if (this.#refusal !== null) {
      clearImmediate(this.#refusal);
      this.#refusal = null;
    }
    super.abandonAttempt();
  }

  protected connectOptions(): NetConnectOpts {
    return { path: this.#path };
  }

  protected connectErrorFor(err: Error): ConnectError {
    return unixConnectErrorFor(err, this.getDestination().toString());
  }

  protected startTransport(transport: UNIXTransport): void {
    transport.start();
  }

  protected socketConnected(socket: Socket): void {
    const peer = this.getDestination() as UNIXAddress;
    this.attemptSucceeded(peer, (protocol: IProtocol) => {
      const transport = new UNIXTransport(
        socket,
        protocol,
        UNNAMED,
        peer,
        this,
        this.#registry.writeHighWaterMark,
      );
      this.releaseSocket(socket);
      return transport;
    });
  }
}
