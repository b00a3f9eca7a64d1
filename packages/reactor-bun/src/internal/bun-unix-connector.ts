/**
 * `BunUNIXConnector`: an outgoing UNIX-domain connection on
 * `Bun.connect({ unix })`, with the semantics of core's Node UNIX connector:
 * no file (ENOENT) and nothing listening (ECONNREFUSED) are both a
 * ConnectionRefusedError (core's `unixConnectErrorFor`), and with `checkPID`
 * the attempt is refused before any connect unless `<path>.lock` names a
 * live process. The attempts are BunStreamConnector's, as for TCP.
 *
 * Tests: test/unix.bun.test.ts, test/conformance.bun.test.ts (UNIX section)
 * @module
 */
import { ConnectionRefusedError, Logger, UNIXAddress } from '@torsion/core';
import type { ConnectError, IClientFactory, IReactorTime } from '@torsion/core';
import {
  isUNIXLockHeld,
  unixConnectErrorFor,
  unixLockPathFor,
  type OpenResources,
} from '@torsion/core/reactor-kit';
import { BunStreamConnector } from './bun-stream-connector.js';

const log = new Logger('torsion.unix');

/** The client's own end, which the kernel reports without a name. */
const UNNAMED = new UNIXAddress(null);

/** Where and how to connect. */
export interface BunUNIXConnectorSettings {
  readonly path: string;
  /** Seconds; `Infinity` for none. */
  readonly timeout: number;
  readonly checkPID: boolean;
  /** Write high-water mark of the connection, in bytes. */
  readonly writeHighWaterMark: number;
}

/** An outgoing UNIX-domain connection, created by `reactor.connectUNIX()`. */
export class BunUNIXConnector extends BunStreamConnector<UNIXAddress> {
  readonly #settings: BunUNIXConnectorSettings;

  constructor(
    resources: OpenResources,
    reactor: IReactorTime,
    factory: IClientFactory,
    settings: BunUNIXConnectorSettings,
  ) {
    super({
      resources,
      clock: reactor,
      reactor,
      factory,
      destination: new UNIXAddress(settings.path),
      timeout: settings.timeout,
      log,
    });
    this.#settings = settings;
  }

  protected get writeHighWaterMark(): number {
    return this.#settings.writeHighWaterMark;
  }

  protected connectErrorFor(err: unknown): ConnectError {
    if (err instanceof ConnectionRefusedError) return err;
    const error = err instanceof Error ? err : new Error(String(err));
    return unixConnectErrorFor(error, this.getDestination().toString());
  }

  protected addressesOf(): { host: UNIXAddress; peer: UNIXAddress } {
    return { host: UNNAMED, peer: this.getDestination() as UNIXAddress };
  }

  protected startAttempt(): void {
    const attempt = this.newAttempt();
    const { path, checkPID } = this.#settings;
    if (checkPID && !isUNIXLockHeld(unixLockPathFor(path))) {
      // Reported on a later turn, as every attempt's outcome is.
      setImmediate(() => {
        if (!attempt.live) return;
        this.connectFailed(
          attempt,
          new ConnectionRefusedError(
            `Connection to ${this.getDestination().toString()} was refused: no live process holds ${unixLockPathFor(path)} (checkPID)`,
          ),
        );
      });
      return;
    }
    this.dial(attempt, { unix: path });
  }
}
