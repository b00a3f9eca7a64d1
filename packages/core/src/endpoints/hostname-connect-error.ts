/**
 * `HostnameConnectError`: every address a `HostnameEndpoint` tried failed.
 *
 * Tests: test/endpoints/hostname-endpoint.test.ts
 * @module
 */
import { ConnectError } from '../errors.js';

/** One failed attempt of a {@link HostnameConnectError}. */
export interface FailedAttempt {
  /** The address tried. */
  readonly address: string;
  /** Why it failed (a ConnectError, normally). */
  readonly error: Error;
}

/**
 * A `HostnameEndpoint` tried every address its name resolved to and none
 * connected. The message lists each address with its failure; `attempts`
 * holds them, in the order they were tried. A ConnectError, as any failed
 * connect.
 */
export class HostnameConnectError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_HOSTNAME_CONNECT';
  readonly host: string;
  readonly port: number;
  readonly attempts: readonly FailedAttempt[];

  constructor(host: string, port: number, attempts: readonly FailedAttempt[]) {
    const each = attempts.map(({ address, error }) => `${address}: ${error.message}`).join('; ');
    super(
      `Could not connect to ${host}:${String(port)}: every address failed (${each})`,
      attempts.length === 1 ? { cause: attempts[0]?.error } : undefined,
    );
    this.host = host;
    this.port = port;
    this.attempts = attempts;
  }
}
