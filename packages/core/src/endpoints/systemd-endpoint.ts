/**
 * systemd socket activation: the listening sockets a service manager passed
 * down (`LISTEN_FDS`/`LISTEN_PID`, descriptors from 3), and the server
 * endpoint that serves on one of them (`systemd:domain=INET:index=0`).
 *
 * Tests: test/endpoints/systemd-endpoint.test.ts, test/endpoints/adopted-port.integration.test.ts
 * (and the runner's test under systemd-socket-activate)
 * @module
 */
import type { IAddress } from '../address.js';
import type { Deferred } from '../deferred.js';
import type {
  AdoptedSocketFamily,
  IListeningPort,
  IProtocolFactory,
  IReactorSocket,
  IStreamServerEndpoint,
} from '../interfaces.js';
import { EndpointError } from './endpoint-error.js';
import { listenDeferred } from './tcp-server-endpoint.js';

/** The first inherited descriptor (`SD_LISTEN_FDS_START`): 0 to 2 are stdio. */
export const LISTEN_FDS_START = 3;

/** The variables systemd sets for an activated service. */
const VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * The descriptors inherited through socket activation, as `sd_listen_fds(1)`
 * reads them: none unless `LISTEN_PID` is this process (the variables may
 * have been inherited from a parent that was the activated one); then
 * `LISTEN_FDS` descriptors from 3. With `unset` (the default) the
 * variables are removed from `env`, so child processes do not take them
 * for theirs.
 * @throws EndpointError if `LISTEN_FDS` is not a count.
 */
export function readListenFds(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
  unset = true,
): number[] {
  const listenPid = env.LISTEN_PID;
  const count = env.LISTEN_FDS;
  if (unset) for (const name of VARIABLES) Reflect.deleteProperty(env, name);
  if (listenPid === undefined || count === undefined) return [];
  if (!/^\d+$/.test(listenPid) || Number(listenPid) !== pid) return [];
  if (!/^\d+$/.test(count) || Number(count) > 1 << 16) {
    throw new EndpointError(`LISTEN_FDS must be a number of descriptors, got '${count}'`);
  }
  return Array.from({ length: Number(count) }, (_, i) => LISTEN_FDS_START + i);
}

/** Where the list is remembered: on `globalThis`, so that two copies of @torsion/core share it. */
const INHERITED = Symbol.for('@torsion/core/inherited-listen-fds');

/**
 * The descriptors this process inherited, read from the environment on the
 * first call (which unsets the variables) and remembered for the next ones,
 * so every `systemd:` endpoint of a process sees the same list — even one
 * built by another copy of @torsion/core, which would otherwise find the
 * variables already gone.
 */
export function inheritedListenFds(): readonly number[] {
  const store = globalThis as Record<symbol, readonly number[] | undefined>;
  return (store[INHERITED] ??= Object.freeze(readListenFds()));
}

/**
 * Serves on a listening socket the process already has (an inherited
 * descriptor), through `reactor.adoptStreamPort`.
 */
export class AdoptedStreamServerEndpoint implements IStreamServerEndpoint {
  readonly reactor: IReactorSocket;
  readonly fd: number;
  readonly family: AdoptedSocketFamily;

  constructor(reactor: IReactorSocket, fd: number, family: AdoptedSocketFamily) {
    this.reactor = reactor;
    this.fd = fd;
    this.family = family;
  }

  listen(factory: IProtocolFactory): Deferred<IListeningPort<IAddress>> {
    return listenDeferred(() => this.reactor.adoptStreamPort(this.fd, this.family, factory));
  }
}

/**
 * The endpoint of `systemd:domain=…:index=N`: the `index`-th inherited
 * socket (0 is descriptor 3).
 * @param fds - the inherited descriptors; default {@link inheritedListenFds}.
 * @throws EndpointError if fewer than `index + 1` sockets were inherited.
 */
export function systemdEndpoint(
  reactor: IReactorSocket,
  family: AdoptedSocketFamily,
  index: number,
  fds: readonly number[] = inheritedListenFds(),
): AdoptedStreamServerEndpoint {
  const fd = fds[index];
  if (fd === undefined) {
    throw new EndpointError(
      `systemd: index=${String(index)} names an inherited socket this process does not have (it has ${String(fds.length)}; LISTEN_FDS and LISTEN_PID say how many systemd passed)`,
    );
  }
  return new AdoptedStreamServerEndpoint(reactor, fd, family);
}
