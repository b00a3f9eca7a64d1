/**
 * One connection attempt as a Deferred: the shared half of every client
 * endpoint (TCP, TLS, UNIX, and each address a HostnameEndpoint races).
 * It gives the reactor a client factory that builds the user's protocol,
 * fires the Deferred once that protocol is connected, turns a failed attempt
 * into the Deferred's failure, and makes the Deferred cancellable.
 *
 * Tests: test/endpoints/tcp-client-endpoint.test.ts, test/endpoints/hostname-endpoint.test.ts
 * @module
 */
import type { IAddress } from '../address.js';
import { Deferred } from '../deferred.js';
import { ConnectError } from '../errors.js';
import type {
  IClientFactory,
  IConnector,
  IEndpointProtocolFactory,
  IProtocol,
  ITransport,
} from '../interfaces.js';
import { ConnectingCancelledError } from './connecting-cancelled-error.js';

/** What a started attempt offers its owner besides the Deferred. */
export interface ConnectAttempt<P extends IProtocol> {
  /** Fires with the connected protocol; fails with the attempt's ConnectError. */
  readonly deferred: Deferred<P>;
  /**
   * Stops the attempt if it is still connecting (its socket is closed), or
   * closes the connection if its protocol was built but not yet handed out.
   * The Deferred fails with ConnectingCancelledError unless it already fired.
   */
  stop(): void;
}

/** Options of {@link startConnectAttempt}. */
export interface ConnectAttemptOptions {
  /**
   * Asked before a protocol is built: false refuses the connection (a
   * HostnameEndpoint's race was won by another address meanwhile).
   */
  readonly mayConnect?: () => boolean;
  /** Told when the protocol is built, before it is connected (the race is won). */
  readonly onBuilt?: () => void;
}

/**
 * Starts one attempt: `start(clientFactory)` must call the reactor's
 * `connect*` with the factory it is given. `destination` names the attempt
 * in a ConnectingCancelledError.
 * @internal
 */
export function startConnectAttempt<P extends IProtocol>(
  factory: IEndpointProtocolFactory<P>,
  destination: string,
  start: (clientFactory: IClientFactory) => IConnector,
  options: ConnectAttemptOptions = {},
): ConnectAttempt<P> {
  let connector: IConnector | null = null;
  let settled = false;
  let built = false;
  const stop = (): void => {
    if (settled) return;
    settled = true;
    const current = connector;
    if (current !== null) {
      // Still connecting: stopConnecting closes the socket and the reactor
      // reports a UserError, which is ignored now that we have settled.
      if (current.state === 'connecting') current.stopConnecting();
      else current.disconnect();
    }
    deferred.errback(new ConnectingCancelledError(destination));
  };
  const deferred = new Deferred<P>(() => {
    stop();
  });
  const fail = (reason: unknown): void => {
    if (settled) return;
    settled = true;
    deferred.errback(reason);
  };
  const clientFactory: IClientFactory = {
    doStart: () => {
      factory.doStart();
    },
    doStop: () => {
      factory.doStop();
    },
    startedConnecting: () => {},
    buildProtocol: (addr: IAddress) => {
      if (settled || built || options.mayConnect?.() === false) return null;
      let protocol: P | null;
      try {
        protocol = factory.buildProtocol(addr);
      } catch (err) {
        fail(err);
        return null;
      }
      if (protocol === null) {
        fail(
          new ConnectError(
            `The factory refused the connection to ${destination} (buildProtocol returned null)`,
          ),
        );
        return null;
      }
      built = true;
      options.onBuilt?.();
      handOutWhenConnected(protocol, () => {
        if (settled) return;
        settled = true;
        deferred.callback(protocol);
      });
      return protocol;
    },
    clientConnectionFailed: (_connector, reason) => {
      fail(reason);
    },
    clientConnectionLost: (_connector, reason) => {
      // Lost before the protocol was connected (it refused, or threw in connectionMade).
      fail(reason);
    },
  };
  try {
    connector = start(clientFactory);
  } catch (err) {
    fail(err);
  }
  return { deferred, stop };
}

/**
 * Calls `connected` right after `protocol.makeConnection()` has run (so after
 * `connectionMade()`), once. The method is wrapped on the instance rather
 * than the protocol wrapped in another object, so the transport talks to
 * the user's protocol itself and sees its optional interfaces
 * (half-close, handshake listener).
 */
function handOutWhenConnected(protocol: IProtocol, connected: () => void): void {
  const own = Object.hasOwn(protocol, 'makeConnection');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the protocol as `this`
  const original = protocol.makeConnection;
  const target = protocol as { makeConnection: (transport: ITransport) => void };
  target.makeConnection = function (this: IProtocol, transport: ITransport): void {
    if (own) target.makeConnection = original;
    else delete (target as Partial<typeof target>).makeConnection;
    original.call(this, transport);
    connected();
  };
}
