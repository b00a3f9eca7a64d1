/**
 * `@torsion/core/reactor-kit`: what a reactor author builds on — the base
 * classes of a reactor, its ports, connectors and transports, the bookkeeping
 * of what it has open, the write queue, and the argument checks every reactor
 * makes. Protocol and application authors need none of it: they use
 * `@torsion/core`. See "Writing a reactor" in docs/reactors.md.
 *
 * Tests: test/reactor-kit/*.test.ts, and the conformance suite
 * (@torsion/reactor-conformance) on every reactor built on it
 * @module
 */
export * from './argument-checks.js';
export * from './base-connector.js';
export * from './base-port.js';
export * from './base-transport.js';
export * from './base-udp-port.js';
export * from './build-protocol.js';
export { callMethodSafely, THREW, type MethodArgs, type MethodResult } from './call-safely.js';
export * from './open-resources.js';
export * from './reactor-base.js';
export * from './write-queue.js';
export * from './tls-errors.js';
/**
 * The socket file of a listening UNIX socket (stale vs live, `mode` set
 * before the socket appears, removed only while it is still the port's) and
 * the `<path>.lock` file of `wantPID`/`checkPID`: shared by every reactor
 * that binds real UNIX socket files, so they all treat a path alike.
 */
export {
  isAbstractName,
  UNIXSocketFile,
  type UNIXSocketFileSettings,
} from '../internal/unix-socket-file.js';
export {
  isLocked as isUNIXLockHeld,
  lockPathFor as unixLockPathFor,
} from '../internal/unix-lock.js';
export { unixConnectErrorFor } from '../internal/unix-connector.js';
/**
 * The address an inherited listening socket (systemd socket activation) is
 * bound to, for a reactor whose runtime does not report it.
 */
export { inheritedSocketAddress } from '../internal/inherited-socket-address.js';
/** The argument checks of `adoptStreamPort`, alike on every reactor that adopts sockets. */
export { checkAdoptStreamPort } from '../internal/adopt-checks.js';
/**
 * Child processes: the shared half of a process transport (call order,
 * processEnded after the exit and every pipe, routing to the pipes' stream
 * transports), the argument checks of `spawnProcess`/`signalProcess`, and the
 * reason an exit status or signal becomes.
 */
export { BaseProcessTransport } from '../process/base-process-transport.js';
/**
 * A child process started with `node:child_process` (on Node, and on a
 * runtime that implements that module, such as Bun), its pipes as
 * StreamTransports.
 */
export { NodeProcessTransport } from '../process/node-process-transport.js';
export {
  checkSignal,
  checkSpawnProcess,
  DEFAULT_CHILD_FDS,
  type SpawnSettings,
} from '../process/spawn-checks.js';
export { exitReason } from '../process/exit-reason.js';
/**
 * A stream transport over Node streams (a `Readable` in, a `Writable` out,
 * either optional): what `StandardIO` runs on, and the pipes of a child
 * process on a runtime that hands them over as Node streams (Bun).
 */
export { StreamTransport, type StreamTransportSettings } from '../stdio/stream-transport.js';
