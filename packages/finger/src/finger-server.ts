/**
 * The finger server (RFC 1288): `FingerServer`, one query per connection, and
 * `FingerFactory`, which holds the user database and the policy (listing,
 * forwarding, limits, idle timeout).
 *
 * Tests: test/finger-server.test.ts, test/finger.integration.test.ts
 * @module
 */
import {
  type Deferred,
  type IDelayedCall,
  type IHalfCloseableProtocol,
  type IReactorTCP,
  type IReactorTime,
  Logger,
  ServerFactory,
  getReactor,
  maybeDeferred,
} from '@torsion/core';
import { checkInteger, checkSeconds } from '@torsion/core/reactor-kit';
import { LineReceiver } from '@torsion/line';
import { FingerQueryError } from './errors.js';
import { finger } from './finger-client.js';
import { type FingerQuery, formatQuery, forwardedQuery, parseQuery } from './query.js';
import {
  FORWARDING_DENIED,
  INVALID_QUERY,
  LIST_DENIED,
  LOOKUP_FAILED,
  QUERY_TOO_LONG,
  encodeReply,
  listReply,
  toLines,
  userReply,
} from './reply.js';
import { MemoryUserDatabase, type UserDatabase, isUserDatabase } from './user-database.js';

const log = new Logger('torsion.finger');

/** The longest query line accepted by default, in bytes (a query is a name or two). */
export const DEFAULT_MAX_QUERY_LENGTH = 1024;
/** Seconds a client may stay connected without sending its query, by default. */
export const DEFAULT_IDLE_TIMEOUT = 60;
/** Seconds a forwarded query may take, by default. */
export const DEFAULT_FORWARD_TIMEOUT = 30;
/** The finger port (RFC 1288 §2.1). */
export const FINGER_PORT = 79;

/** Options for {@link FingerFactory}. */
export interface FingerFactoryOptions {
  /** The users: a {@link UserDatabase}, or a plain name → info object. Default: no users. */
  users?: UserDatabase | Readonly<Record<string, string>>;
  /** Answer the empty query with the list of users. Default false: refuse it. */
  allowList?: boolean;
  /**
   * Forward `user@host` queries to `host` (one hop per server, RFC 1288 §2.5.1).
   * Default false: refuse them without connecting anywhere. Enabling it lets
   * any client make this server connect to any host's finger port.
   */
  forwarding?: boolean;
  /** The port forwarded queries go to. Default 79. */
  forwardPort?: number;
  /** Seconds a forwarded query may take before it fails. Default 30. */
  forwardTimeout?: number;
  /** Seconds to wait for the query before closing the connection. Default 60. */
  idleTimeout?: number;
  /** The longest query line accepted, in bytes; longer closes the connection. Default 1024. */
  maxQueryLength?: number;
  /** The reactor for timeouts and forwarding. Default: `getReactor()`, when first needed. */
  reactor?: IReactorTime & IReactorTCP;
}

/** A duration option: finite seconds > 0. */
function seconds(value: number, what: string): number {
  checkSeconds(value, what, false, true);
  return value;
}

/** A whole-number option within bounds. */
function integer(value: number, what: string, min: number, max: number): number {
  checkInteger(value, what, min, max);
  return value;
}

/**
 * Answers one finger query per connection, then closes it.
 *
 * @remarks
 * - The query is the first CRLF-terminated line; later input is ignored.
 * - A query line longer than the factory's `maxQueryLength` gets
 *   {@link QUERY_TOO_LONG} and the connection is closed; so does a client
 *   that sends nothing for `idleTimeout` seconds (without a reply).
 * - The reply is written only if the client is still connected when the
 *   database (or the forwarded server) answers.
 */
export class FingerServer extends LineReceiver<FingerFactory> implements IHalfCloseableProtocol {
  #idle: IDelayedCall | null = null;
  #answered = false;
  #lost = false;

  /** The factory, or a default one when the protocol was built by hand. */
  get settings(): FingerFactory {
    this.factory ??= new FingerFactory();
    return this.factory;
  }

  /** Applies the query length limit and starts the idle timer. */
  override connectionMade(): void {
    const settings = this.settings;
    this.MAX_LENGTH = settings.maxQueryLength;
    this.#idle = settings.reactor.callLater(settings.idleTimeout, () => {
      this.#idle = null;
      log.info('Closing an idle finger connection', {
        peer: this.transport.getPeer().toString(),
        idleTimeout: settings.idleTimeout,
      });
      this.transport.loseConnection();
    });
  }

  /** Answers the first line; ignores the rest. */
  override lineReceived(line: Buffer): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#cancelIdle();
    // The bytes, not a lenient decoding of them: answer() refuses invalid UTF-8.
    this.settings.answer(line).addCallback((text) => {
      if (this.#lost) return;
      this.transport.write(text);
      this.transport.loseConnection();
    });
  }

  /** Refuses an over-long query with a message, then closes. */
  override lineLengthExceeded(line: Buffer): void {
    this.#answered = true;
    this.#cancelIdle();
    log.info('Finger query too long', {
      peer: this.transport.getPeer().toString(),
      length: line.length,
    });
    this.transport.write(encodeReply([QUERY_TOO_LONG]));
    this.transport.loseConnection();
  }

  /**
   * The client sent FIN, as `printf 'alice\r\n' | nc -N host 79` does right
   * after its query: the reply still goes out (the transport keeps the
   * connection open for it) and closes the connection as usual. A client that
   * half-closes before sending a query gets nothing to wait for.
   */
  readConnectionLost(): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#cancelIdle();
    this.transport.loseConnection();
  }

  /** Our FIN went out: nothing to do, the connection is closing. */
  writeConnectionLost(): void {}

  /** Cancels the idle timer; a reply that arrives later is dropped. */
  override connectionLost(): void {
    this.#lost = true;
    this.#cancelIdle();
  }

  #cancelIdle(): void {
    this.#idle?.cancel();
    this.#idle = null;
  }
}

/**
 * Builds {@link FingerServer}s and answers their queries.
 *
 * @example
 * ```ts
 * const factory = new FingerFactory({ users: { moshez: 'Happy and well' } });
 * reactor.listenTCP(7979, factory, { interface: '127.0.0.1' });
 * ```
 */
export class FingerFactory extends ServerFactory {
  /** The user database. */
  readonly users: UserDatabase;
  /** Whether the empty query lists users. */
  readonly allowList: boolean;
  /** Whether `user@host` queries are forwarded. */
  readonly forwarding: boolean;
  /** The port forwarded queries go to. */
  readonly forwardPort: number;
  /** Seconds a forwarded query may take. */
  readonly forwardTimeout: number;
  /** Seconds to wait for a query. */
  readonly idleTimeout: number;
  /** The longest query line accepted, in bytes. */
  readonly maxQueryLength: number;
  readonly #reactor: (IReactorTime & IReactorTCP) | undefined;

  /**
   * @param options - see {@link FingerFactoryOptions}.
   * @throws RangeError for a timeout, port or length out of range.
   */
  constructor(options: FingerFactoryOptions = {}) {
    super();
    this.protocol = FingerServer;
    const users = options.users ?? {};
    this.users = isUserDatabase(users) ? users : new MemoryUserDatabase(users);
    this.allowList = options.allowList ?? false;
    this.forwarding = options.forwarding ?? false;
    this.forwardPort = integer(options.forwardPort ?? FINGER_PORT, 'forwardPort', 1, 65535);
    this.forwardTimeout = seconds(
      options.forwardTimeout ?? DEFAULT_FORWARD_TIMEOUT,
      'forwardTimeout',
    );
    this.idleTimeout = seconds(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, 'idleTimeout');
    this.maxQueryLength = integer(
      options.maxQueryLength ?? DEFAULT_MAX_QUERY_LENGTH,
      'maxQueryLength',
      1,
      1 << 20,
    );
    this.#reactor = options.reactor;
  }

  /** The reactor given in the options, else the default reactor. */
  get reactor(): IReactorTime & IReactorTCP {
    return this.#reactor ?? getReactor();
  }

  /**
   * The whole reply (CRLF-terminated lines) to one query line. Never fails:
   * errors become a reply line and are logged.
   * @param line - the query, without its CRLF: text, or the bytes received,
   *   which must be UTF-8 (see `parseQuery`).
   */
  answer(line: string | Uint8Array): Deferred<string> {
    let query: FingerQuery;
    try {
      query = parseQuery(line);
    } catch (err) {
      if (!(err instanceof FingerQueryError)) throw err;
      return maybeDeferred(() => encodeReply([INVALID_QUERY]));
    }
    return this.#lines(query)
      .addErrback((failure) => {
        log.failure('Finger lookup failed', failure, { query: formatQuery(query) });
        return [LOOKUP_FAILED];
      })
      .addCallback(encodeReply);
  }

  #lines(query: FingerQuery): Deferred<readonly string[]> {
    const forward = forwardedQuery(query);
    if (forward !== null) {
      if (!this.forwarding) return maybeDeferred(() => [FORWARDING_DENIED]);
      return this.#forward(forward.host, forward.line);
    }
    if (query.kind === 'list') {
      if (!this.allowList) return maybeDeferred(() => [LIST_DENIED]);
      return maybeDeferred(() => this.users.listUsers()).addCallback(listReply);
    }
    return maybeDeferred(() => this.users.getUser(query.user, query.verbose)).addCallback((info) =>
      userReply(query.user, info),
    );
  }

  #forward(host: string, line: string): Deferred<readonly string[]> {
    // A bracketed IPv6 literal (`user@[::1]`) is connected to without its brackets.
    const address = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    log.info('Forwarding a finger query', { host: address, port: this.forwardPort });
    return finger(line, {
      host: address,
      port: this.forwardPort,
      timeout: this.forwardTimeout,
      reactor: this.reactor,
    }).addCallbacks(toLines, (failure) => {
      log.info('Forwarded finger query failed', {
        host: address,
        reason: failure.getErrorMessage(),
      });
      return toLines(`Finger forwarding to ${host} failed: ${failure.getErrorMessage()}`);
    });
  }
}
