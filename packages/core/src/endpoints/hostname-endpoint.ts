/**
 * `HostnameEndpoint`: connects to a host name by resolving it to all of its
 * addresses and racing them with Happy Eyeballs (RFC 8305), as Twisted's
 * endpoint of the same name.
 *
 * Tests: test/endpoints/hostname-endpoint.test.ts, test/endpoints/loopback.integration.test.ts
 * @module
 */
import { Deferred } from '../deferred.js';
import type { Failure } from '../failure.js';
import type {
  IDelayedCall,
  IEndpointProtocolFactory,
  INameResolver,
  IProtocol,
  IReactor,
  IStreamClientEndpoint,
  ResolvedAddress,
} from '../interfaces.js';
import { startConnectAttempt, type ConnectAttempt } from './connect-attempt.js';
import { ConnectingCancelledError } from './connecting-cancelled-error.js';
import { HostnameConnectError, type FailedAttempt } from './hostname-connect-error.js';
import { nameResolverFor } from './name-resolver.js';
import { formatHostPort, type ClientEndpointOptions } from './tcp-client-endpoint.js';

/**
 * RFC 8305's recommended "Connection Attempt Delay": how long an attempt
 * has before the next address is tried alongside it.
 */
export const DEFAULT_ATTEMPT_DELAY = 0.25;

/** Options of {@link HostnameEndpoint}. */
export interface HostnameEndpointOptions extends ClientEndpointOptions {
  /**
   * How names are resolved. Default: the reactor's `nameResolver` (the
   * SimulatedReactor's host table), else the system's (`dns.lookup`).
   */
  readonly resolver?: INameResolver;
  /** Seconds between starting one attempt and the next (RFC 8305 says 0.1 to 2; default 0.25). */
  readonly attemptDelay?: number;
}

/**
 * The order RFC 8305 section 4 tries addresses in: IPv6 first, then the
 * families alternate, each family in the resolver's order.
 */
export function happyEyeballsOrder(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const v6 = addresses.filter((a) => a.family === 6);
  const v4 = addresses.filter((a) => a.family === 4);
  const ordered: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    const six = v6[i];
    const four = v4[i];
    if (six !== undefined) ordered.push(six);
    if (four !== undefined) ordered.push(four);
  }
  return ordered;
}

/**
 * Connects to `host:port`, trying every address `host` resolves to. The
 * first attempt starts at once; each next one starts when the previous
 * failed or `attemptDelay` seconds after it started, whichever comes first
 * (timed with the reactor's `callLater`, so a Clock or SimulatedReactor
 * decides the race). The first connection wins: the attempts still
 * connecting are stopped (their sockets closed) and no later one starts.
 * When every attempt failed, the Deferred fails with a
 * {@link HostnameConnectError} listing each address's failure; a name that
 * does not resolve fails with DNSLookupError. Cancelling stops everything
 * and fails with ConnectingCancelledError.
 *
 * `timeout` applies to each attempt, as `connectTCP`'s.
 */
export class HostnameEndpoint implements IStreamClientEndpoint {
  readonly reactor: IReactor;
  readonly host: string;
  readonly port: number;
  readonly #options: HostnameEndpointOptions;
  readonly #delay: number;

  /** @throws RangeError if `attemptDelay` is not a finite number of seconds, 0 or more. */
  constructor(
    reactor: IReactor,
    host: string,
    port: number,
    options: HostnameEndpointOptions = {},
  ) {
    const delay = options.attemptDelay ?? DEFAULT_ATTEMPT_DELAY;
    if (!Number.isFinite(delay) || delay < 0) {
      throw new RangeError(
        `attemptDelay must be a finite number of seconds, 0 or more, got ${String(delay)}`,
      );
    }
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.#options = options;
    this.#delay = delay;
  }

  connect<P extends IProtocol>(factory: IEndpointProtocolFactory<P>): Deferred<P> {
    const { resolver, attemptDelay: _ignored, ...connectOptions } = this.#options;
    const { reactor, host, port } = this;
    const delay = this.#delay;
    // Set from the attempts' callbacks; an object so that reads are not narrowed by flow analysis.
    const race: { finished: boolean; won: boolean; winner: ConnectAttempt<P> | null } = {
      finished: false,
      won: false,
      winner: null,
    };
    let timer: IDelayedCall | null = null;
    let queue: ResolvedAddress[] = [];
    const running = new Set<ConnectAttempt<P>>();
    const failures: FailedAttempt[] = [];

    // Read through functions: flow analysis would take them as still false
    // after a check, but the attempts' callbacks change them meanwhile.
    const decided = (): boolean => race.won || race.finished;
    const wonAlready = (): boolean => race.won;
    const stopTimer = (): void => {
      if (timer?.active() === true) timer.cancel();
      timer = null;
    };
    const stopOthers = (keep: ConnectAttempt<P> | null): void => {
      stopTimer();
      queue = [];
      for (const attempt of [...running]) if (attempt !== keep) attempt.stop();
    };
    const result = new Deferred<P>(() => {
      if (race.finished) return;
      race.finished = true;
      resolving.cancel();
      stopOthers(null);
      result.errback(new ConnectingCancelledError(formatHostPort(host, port)));
    });
    const finishIfAllFailed = (): void => {
      if (race.finished || race.won || running.size > 0 || queue.length > 0) return;
      race.finished = true;
      result.errback(new HostnameConnectError(host, port, failures));
    };
    const startNext = (): void => {
      timer = null;
      const next = queue.shift();
      if (next === undefined || race.finished || race.won) return;
      const holder: { attempt: ConnectAttempt<P> | null } = { attempt: null };
      const attempt = startConnectAttempt(
        factory,
        formatHostPort(next.address, port),
        (clientFactory) => reactor.connectTCP(next.address, port, clientFactory, connectOptions),
        {
          mayConnect: () => !race.won && !race.finished,
          onBuilt: () => {
            race.won = true;
            race.winner = holder.attempt;
            // The race is decided: stop the rest, keep the winner (may be null
            // only if it connected inside its own start, before `holder` was set).
            stopOthers(holder.attempt);
          },
        },
      );
      holder.attempt = attempt;
      if (race.winner === null && wonAlready()) race.winner = attempt;
      running.add(attempt);
      attempt.deferred.addCallbacks(
        (protocol) => {
          running.delete(attempt);
          if (race.finished) return;
          race.finished = true;
          result.callback(protocol);
        },
        (failure: Failure) => {
          running.delete(attempt);
          if (race.finished) return;
          if (attempt === race.winner) {
            // Built, then lost before it was connected: nothing else is left.
            race.finished = true;
            result.errback(failure);
            return;
          }
          if (race.won) return;
          failures.push({ address: next.address, error: failure.value });
          if (timer !== null) {
            // RFC 8305: a failed attempt lets the next one start at once.
            stopTimer();
            startNext();
          }
          finishIfAllFailed();
        },
      );
      if (!running.has(attempt) && !decided()) {
        // It failed inside connectTCP (arguments the reactor refused): the next one starts at once.
        startNext();
        return;
      }
      if (queue.length > 0 && !decided()) timer = reactor.callLater(delay, startNext);
      finishIfAllFailed();
    };

    const resolving = (resolver ?? nameResolverFor(reactor)).resolveHostName(host);
    resolving.addCallbacks(
      (addresses) => {
        if (race.finished) return;
        queue = happyEyeballsOrder(addresses);
        startNext();
        // A resolver that broke its contract and answered no address at all.
        finishIfAllFailed();
      },
      (failure: Failure) => {
        if (race.finished) return;
        race.finished = true;
        result.errback(failure);
      },
    );
    return result;
  }
}
