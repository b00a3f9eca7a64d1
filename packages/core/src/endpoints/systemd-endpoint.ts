/**
 * systemd socket activation: the listening sockets a service manager passed
 * down (`LISTEN_FDS`/`LISTEN_PID`, descriptors from 3, named by
 * `LISTEN_FDNAMES`), and the server endpoint that serves on one of them
 * (`systemd:domain=INET:index=0`, or `systemd:domain=INET:name=web`).
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

/** The sockets socket activation passed down. */
export interface InheritedSockets {
  /** The descriptors, from 3. */
  readonly fds: readonly number[];
  /**
   * Their names, from `LISTEN_FDNAMES` (`FileDescriptorName=`, or the socket
   * unit's name; systemd 227 and later), in the order of `fds`; `null` when
   * the variable was not set. Checked against `fds` only when a socket is
   * looked up by name, so that a disagreement never costs `index=` users
   * their sockets.
   */
  readonly names: readonly string[] | null;
}

/**
 * The sockets inherited through socket activation, as
 * `sd_listen_fds_with_names(3)` reads them: none unless `LISTEN_PID` is this
 * process (the variables may have been inherited from a parent that was the
 * activated one); then `LISTEN_FDS` descriptors from 3, and the names in
 * `LISTEN_FDNAMES`. With `unset` (the default) the variables are removed
 * from `env`, so child processes do not take them for theirs.
 * @throws EndpointError if `LISTEN_FDS` is not a count.
 */
export function readListenSockets(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
  unset = true,
): InheritedSockets {
  const listenPid = env.LISTEN_PID;
  const count = env.LISTEN_FDS;
  const names = env.LISTEN_FDNAMES;
  if (unset) for (const name of VARIABLES) Reflect.deleteProperty(env, name);
  if (listenPid === undefined || count === undefined) return { fds: [], names: null };
  if (!/^\d+$/.test(listenPid) || Number(listenPid) !== pid) return { fds: [], names: null };
  if (!/^\d+$/.test(count) || Number(count) > 1 << 16) {
    throw new EndpointError(`LISTEN_FDS must be a number of descriptors, got '${count}'`);
  }
  return {
    fds: Array.from({ length: Number(count) }, (_, i) => LISTEN_FDS_START + i),
    names: names === undefined ? null : names.split(':'),
  };
}

/**
 * The descriptors inherited through socket activation: those of
 * {@link readListenSockets}, without their names.
 * @throws EndpointError if `LISTEN_FDS` is not a count.
 */
export function readListenFds(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
  unset = true,
): number[] {
  return [...readListenSockets(env, pid, unset).fds];
}

/**
 * Where the sockets are remembered: on `globalThis`, so that two copies of
 * @torsion/core share them. An older copy remembered only the descriptors,
 * under the first key.
 */
const INHERITED_FDS = Symbol.for('@torsion/core/inherited-listen-fds');
const INHERITED = Symbol.for('@torsion/core/inherited-listen-sockets');

/**
 * The sockets this process inherited, read from the environment on the
 * first call (which unsets the variables) and remembered for the next ones,
 * so every `systemd:` endpoint of a process sees the same list — even one
 * built by another copy of @torsion/core, which would otherwise find the
 * variables already gone.
 */
export function inheritedListenSockets(): InheritedSockets {
  const store = globalThis as Record<symbol, InheritedSockets | readonly number[] | undefined>;
  let sockets = store[INHERITED] as InheritedSockets | undefined;
  if (sockets === undefined) {
    const fdsOnly = store[INHERITED_FDS] as readonly number[] | undefined;
    sockets = Object.freeze(
      fdsOnly === undefined ? readListenSockets() : { fds: fdsOnly, names: null },
    );
    Object.freeze(sockets.fds);
    if (sockets.names !== null) Object.freeze(sockets.names);
    store[INHERITED] = sockets;
    store[INHERITED_FDS] = sockets.fds;
  }
  return sockets;
}

/** The descriptors this process inherited: those of {@link inheritedListenSockets}. */
export function inheritedListenFds(): readonly number[] {
  return inheritedListenSockets().fds;
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

/**
 * The endpoint of `systemd:domain=…:name=NAME`: the inherited socket that
 * `LISTEN_FDNAMES` names `name`. Twisted maps names to descriptors and takes
 * the last of several with one name, and drops every inherited socket when
 * the names and descriptors disagree in number; here a name must pick
 * exactly one socket, and a disagreement fails only a lookup by name.
 * @param sockets - the inherited sockets; default {@link inheritedListenSockets}.
 * @throws EndpointError if systemd passed no names, names that do not match
 *   the descriptors, or not exactly one socket named `name`.
 */
export function systemdEndpointNamed(
  reactor: IReactorSocket,
  family: AdoptedSocketFamily,
  name: string,
  sockets: InheritedSockets = inheritedListenSockets(),
): AdoptedStreamServerEndpoint {
  const { fds, names } = sockets;
  if (names === null) {
    throw new EndpointError(
      `systemd: name=${name}: no inherited socket has a name (LISTEN_FDNAMES is not set: systemd 227 and later set it from FileDescriptorName= or the socket unit's name, systemd-socket-activate from --fdname); use index=N`,
    );
  }
  if (names.length !== fds.length) {
    throw new EndpointError(
      `systemd: name=${name}: LISTEN_FDNAMES names ${String(names.length)} sockets but LISTEN_FDS passed ${String(fds.length)}; use index=N`,
    );
  }
  const indexes = names.flatMap((n, i) => (n === name ? [i] : []));
  const index = indexes[0];
  if (index === undefined) {
    throw new EndpointError(
      `systemd: name=${name}: no inherited socket has that name (they are named ${names.map((n) => `'${n}'`).join(', ') || 'nothing: none was passed'})`,
    );
  }
  if (indexes.length > 1) {
    throw new EndpointError(
      `systemd: name=${name}: ${String(indexes.length)} inherited sockets have that name (indexes ${indexes.join(', ')}); pick one with index=N`,
    );
  }
  return systemdEndpoint(reactor, family, index, fds);
}
