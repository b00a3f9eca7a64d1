/**
 * The finger client: `FingerClient` sends one query and collects the reply
 * until the server closes; `finger()` connects, runs it and gives the reply text.
 *
 * Tests: test/finger-client.test.ts, test/finger.integration.test.ts
 * @module
 */
import {
  ClientFactory,
  ConnectionDone,
  Deferred,
  DeferredTimeoutError,
  type Failure,
  type IConnector,
  type IDelayedCall,
  type IReactorTCP,
  type IReactorTime,
  Protocol,
  getReactor,
} from '@torsion/core';
import { FingerReplyTooLongError } from './errors.js';
import { sanitize } from './reply.js';

/** The largest reply accepted by default, in bytes. */
export const DEFAULT_MAX_REPLY_LENGTH = 1 << 20;

/**
 * Sends `query` followed by CRLF once connected, and collects everything
 * the server sends until it closes the connection.
 *
 * @remarks {@link FingerClient.reply} fires with the raw bytes when the server
 * closes cleanly; it fails with the connection's reason if the connection is
 * lost, or with {@link FingerReplyTooLongError} (and the connection is
 * dropped) once the reply passes `maxReplyLength` bytes.
 */
export class FingerClient extends Protocol {
  /** Fires with the whole reply, as bytes. */
  readonly reply = new Deferred<Buffer>();
  readonly #query: string;
  readonly #maxReplyLength: number;
  readonly #chunks: Buffer[] = [];
  #length = 0;
  #failure: Error | null = null;

  /**
   * @param query - the query line without CRLF, e.g. `'alice'` or `'/W alice'`.
   * @param maxReplyLength - the largest reply accepted, in bytes.
   */
  constructor(query: string, maxReplyLength: number = DEFAULT_MAX_REPLY_LENGTH) {
    super();
    this.#query = query;
    this.#maxReplyLength = maxReplyLength;
  }

  /** Sends the query. */
  override connectionMade(): void {
    this.transport.write(`${this.#query}\r\n`);
  }

  /** Collects the reply, up to the limit. */
  override dataReceived(data: Buffer): void {
    if (this.#failure !== null) return;
    this.#length += data.length;
    if (this.#length > this.#maxReplyLength) {
      this.#failure = new FingerReplyTooLongError(
        `The finger reply is longer than ${this.#maxReplyLength} bytes`,
      );
      const transport = this.transport as { abortConnection?: () => void };
      if (transport.abortConnection === undefined) this.transport.loseConnection();
      else transport.abortConnection();
      return;
    }
    this.#chunks.push(data);
  }

  /** Fires {@link FingerClient.reply}. */
  override connectionLost(reason: Failure): void {
    if (this.reply.called) return;
    if (this.#failure !== null) this.reply.errback(this.#failure);
    else if (reason.check(ConnectionDone) !== null)
      this.reply.callback(Buffer.concat(this.#chunks));
    else this.reply.errback(reason);
  }
}

/** Options for {@link finger}. */
export interface FingerOptions {
  /** The server's host name or address. */
  host: string;
  /** The server's port. Default 79. */
  port?: number;
  /** Ask for the verbose reply (sends `/W` before the query). Default false. */
  verbose?: boolean;
  /** Seconds the whole exchange may take, connecting included. Default 30. */
  timeout?: number;
  /** The largest reply accepted, in bytes. Default 1 MiB. */
  maxReplyLength?: number;
  /** The reactor to connect with. Default: `getReactor()`. */
  reactor?: IReactorTime & IReactorTCP;
}

/**
 * Asks a finger server about `query` and gives its reply.
 *
 * @param query - a user (`'alice'`), `''` for the list of users, or a
 *   forwarding query (`'alice@elsewhere'`), without `/W` (see `verbose`).
 * @returns a Deferred of the reply as text: decoded as UTF-8 (bytes that are
 *   not UTF-8 become U+FFFD), with line endings turned into `\n`, and control
 *   characters other than TAB and bidi controls replaced with U+FFFD by
 *   `sanitize` (RFC 1288 §3.3: a hostile server must not drive the terminal,
 *   nor reorder or hide what it shows). It fails
 *   with ConnectionRefusedError, DNSLookupError or another ConnectError
 *   (TimeoutError among them, if connecting alone took `timeout`),
 *   DeferredTimeoutError (no whole reply within `timeout`), ConnectionLost,
 *   or {@link FingerReplyTooLongError}.
 *   Cancelling it drops the connection.
 * @throws RangeError for a bad port or timeout; TypeError for an empty host.
 */
export function finger(query: string, options: FingerOptions): Deferred<string> {
  const timeout = options.timeout ?? 30;
  if (typeof timeout !== 'number' || !(timeout > 0)) {
    throw new RangeError(`timeout must be a number of seconds > 0, got ${String(timeout)}`);
  }
  const reactor = options.reactor ?? getReactor();
  const line = options.verbose === true ? `/W ${query}`.trimEnd() : query;
  const host = options.host;
  const port = options.port ?? 79;
  let connector: IConnector | null = null;
  let timer: IDelayedCall | null = null;
  let cancelled = false;
  // The connection ends with its own error when cancelled; cancel() then
  // fails the Deferred with CancelledError, as callers expect.
  const result = new Deferred<string>(() => {
    cancelled = true;
    if (timer?.active() === true) timer.cancel();
    timer = null;
    connector?.disconnect();
  });
  const settle = (outcome: string | Failure | Error): void => {
    if (timer?.active() === true) timer.cancel();
    timer = null;
    if (cancelled || result.called) return;
    if (typeof outcome === 'string') result.callback(outcome);
    else result.errback(outcome);
  };

  const factory = new (class extends ClientFactory {
    override buildProtocol(): FingerClient {
      const client = new FingerClient(line, options.maxReplyLength ?? DEFAULT_MAX_REPLY_LENGTH);
      client.factory = this;
      client.reply.addCallbacks(
        (bytes) => {
          settle(sanitize(bytes.toString('utf8').replace(/\r\n?/g, '\n')));
        },
        (failure) => {
          settle(failure);
        },
      );
      return client;
    }
    override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
      settle(reason);
    }
  })();

  const attempt = reactor.connectTCP(host, port, factory, { timeout });
  connector = attempt;
  timer = reactor.callLater(timeout, () => {
    timer = null;
    settle(
      new DeferredTimeoutError(`No finger reply from ${host}:${port} within ${timeout} seconds`),
    );
    attempt.disconnect();
  });
  return result;
}
