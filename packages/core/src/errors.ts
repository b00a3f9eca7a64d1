/**
 * Torsion's error classes. Every one has a stable `code` that never changes,
 * even when its message does, so callers can branch on it safely.
 *
 * Network failures are never thrown at the user: they arrive as a {@link Failure}
 * in `connectionLost(reason)` or `clientConnectionFailed(connector, reason)`.
 * Programmer errors (bad arguments, calling `stop()` twice) are thrown at once.
 *
 * Tests: test/errors.test.ts, test/udp-errors.test.ts
 * @module
 */

/** The brand an instance of the error class named `name` carries (see {@link TorsionError}). */
function brandOf(name: string): symbol {
  return Symbol.for(`torsion.error.${name}`);
}

/**
 * Base class of every error Torsion raises or reports.
 *
 * @remarks
 * `instanceof` (and so `Failure.check`) works across two copies of
 * `@torsion/core` in one application, as undici's errors do: each error
 * carries a `Symbol.for('torsion.error.<ClassName>')` brand for its class and
 * every ancestor up to `TorsionError`, and `static [Symbol.hasInstance]`
 * accepts a value that carries the brand of the class asked about. Two copies
 * arise when packages pin different versions of core; `peerDependencies` keep
 * that rare, the brands keep `reason.check(ConnectionDone)` right when it
 * happens anyway. The brand follows the class name, which is part of the API
 * (it is also the error's `name`); a subclass of your own should have a name
 * no Torsion error class has.
 */
export class TorsionError extends Error {
  /** A stable identifier, e.g. `TORSION_ERR_CONNECTION_DONE`. */
  readonly code: string = 'TORSION_ERR';

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    // Subclasses get their own name in stack traces without repeating it.
    this.name = new.target.name;
    // One non-enumerable brand per class from new.target up to TorsionError.
    for (
      let type: unknown = new.target;
      typeof type === 'function' && type !== Error;
      type = Object.getPrototypeOf(type)
    ) {
      Object.defineProperty(this, brandOf(type.name), { value: true });
    }
  }

  /**
   * `value instanceof SomeTorsionError`: true for an instance of the class
   * from this copy of `@torsion/core`, and for an error from another copy
   * that carries the class's brand.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[brandOf(this.name)] === true
    );
  }
}

/** A connection closed, cleanly or not. Base of {@link ConnectionDone} and {@link ConnectionLost}. */
export class ConnectionClosed extends TorsionError {
  override readonly code: string = 'TORSION_ERR_CONNECTION_CLOSED';
}

/** The connection was closed cleanly: an orderly FIN, or `loseConnection()` after a full flush. */
export class ConnectionDone extends ConnectionClosed {
  override readonly code: string = 'TORSION_ERR_CONNECTION_DONE';
  constructor(message = 'Connection was closed cleanly.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The connection was closed uncleanly: a reset, a socket error, or an error
 * thrown by the protocol. `cause` holds the underlying error when there is one.
 */
export class ConnectionLost extends ConnectionClosed {
  override readonly code: string = 'TORSION_ERR_CONNECTION_LOST';
  constructor(
    message = 'Connection to the other side was lost in a non-clean fashion.',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** This side closed the connection with `abortConnection()`: unsent data was dropped. */
export class ConnectionAborted extends ConnectionLost {
  override readonly code: string = 'TORSION_ERR_CONNECTION_ABORTED';
  constructor(message = 'Connection was aborted locally.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * An outgoing connection attempt failed. Base of every reason
 * `clientConnectionFailed` receives, so `reason.check(ConnectError)` is true
 * for any failed connect; `cause` holds the system error when there is one.
 */
export class ConnectError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_CONNECT';
}

/** The peer refused the connection (nothing listening: ECONNREFUSED). */
export class ConnectionRefusedError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_CONNECTION_REFUSED';
  constructor(message = 'Connection was refused by the other side.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The host name of an outgoing connection could not be resolved.
 *
 * A ConnectError, unlike Twisted's (an `IOError`): name resolution is part of
 * `connectTCP`, so a failed lookup is one more way the connect failed.
 */
export class DNSLookupError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_DNS_LOOKUP';
}

/** The local address given as `bindAddress` could not be bound (EADDRINUSE, EADDRNOTAVAIL). */
export class ConnectBindError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_CONNECT_BIND';
  constructor(
    message = 'Could not bind the local address of the connection.',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No route to the destination (ENETUNREACH, EHOSTUNREACH). */
export class NoRouteError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_NO_ROUTE';
  constructor(message = 'No route to the destination.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The operating system gave up on the connection attempt (ETIMEDOUT): no
 * answer to its SYNs. Not a {@link TimeoutError}, which is Torsion's own
 * `timeout` option running out first.
 */
export class TCPTimedOutError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_TCP_TIMED_OUT';
  constructor(message = 'The TCP connection attempt timed out.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * This side gave up on the connection attempt: `connector.stopConnecting()`
 * (or `disconnect()`, or the reactor stopping) while connecting. Base of
 * {@link TimeoutError}. A reconnecting client can tell its own decision from
 * a network failure with `reason.check(UserError)`.
 */
export class UserError extends ConnectError {
  override readonly code: string = 'TORSION_ERR_USER';
  constructor(
    message = 'The connection attempt was stopped by this side.',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A connection attempt took longer than the `timeout` option of `connectTCP`.
 * A {@link UserError}, hence a {@link ConnectError}: the limit is this side's.
 * A Deferred that times out fails with {@link DeferredTimeoutError} instead.
 */
export class TimeoutError extends UserError {
  override readonly code: string = 'TORSION_ERR_TIMEOUT';
  constructor(message = 'User timeout caused connection failure.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A Deferred got no result in time: `Deferred.addTimeout`, or a client call
 * such as `echo()` whose whole exchange has a time limit. Not a
 * ConnectError: the connection may well have been made.
 */
export class DeferredTimeoutError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_DEFERRED_TIMEOUT';
  constructor(message = 'The Deferred timed out.', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * `connector.stopConnecting()` was called when no attempt was in progress (the
 * connector is disconnected or connected). A programmer error, so it is thrown,
 * not reported: `disconnect()` is the call that fits every state.
 */
export class NotConnectingError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_NOT_CONNECTING';
  constructor(
    message = 'The connector was not connecting when it was asked to stop connecting.',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A port could not be bound (in use, no permission, bad interface). For a
 * UNIX socket, `interface` is the path (`@name` for an abstract name) and
 * `port` is -1.
 */
export class CannotListenError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_CANNOT_LISTEN';
  readonly interface: string;
  readonly port: number;

  constructor(iface: string, port: number, options?: ErrorOptions) {
    // A UNIX socket has a path and no port (-1).
    const where = port < 0 ? iface : `${iface === '' ? '*' : iface}:${String(port)}`;
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`Could not listen on ${where}${why}`, options);
    this.interface = iface;
    this.port = port;
  }
}

/** A Deferred or a delayed call was fired, or fired again, after it had already run. */
export class AlreadyCalledError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_ALREADY_CALLED';
}

/** A delayed call was cancelled, reset or delayed after it had already been cancelled. */
export class AlreadyCancelledError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_ALREADY_CANCELLED';
}

/** A Deferred was cancelled before it had a result. */
export class CancelledError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_CANCELLED';
  constructor(message = 'The Deferred was cancelled.', options?: ErrorOptions) {
    super(message, options);
  }
}

/** `run()` was called on a reactor that is running. */
export class ReactorAlreadyRunning extends TorsionError {
  override readonly code: string = 'TORSION_ERR_REACTOR_ALREADY_RUNNING';
  constructor(message = 'The reactor is already running.') {
    super(message);
  }
}

/** `stop()` was called on a reactor that is not running. */
export class ReactorNotRunning extends TorsionError {
  override readonly code: string = 'TORSION_ERR_REACTOR_NOT_RUNNING';
  constructor(message = "Can't stop a reactor that isn't running.") {
    super(message);
  }
}

/** `run()` was called on a reactor that has already stopped: reactors run once. */
export class ReactorNotRestartable extends TorsionError {
  override readonly code: string = 'TORSION_ERR_REACTOR_NOT_RESTARTABLE';
  constructor(message = 'A reactor cannot be restarted once it has stopped.') {
    super(message);
  }
}

/** `installReactor()` was called after the default reactor was already in use. */
export class ReactorAlreadyInstalledError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_REACTOR_ALREADY_INSTALLED';
}

/**
 * A file Torsion was asked to read was refused before it was read whole.
 * Base of {@link FileNotRegularError} and {@link FileTooLargeError}.
 */
export class FileRefusedError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_FILE_REFUSED';
  /** The path, as given. */
  readonly path: string;

  constructor(path: string, message?: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/**
 * The path names a directory, a device, a FIFO or a socket rather than a
 * regular file: reading it could block forever (a FIFO) or never end
 * (`/dev/zero`), so it is refused before any byte is read.
 */
export class FileNotRegularError extends FileRefusedError {
  override readonly code: string = 'TORSION_ERR_FILE_NOT_REGULAR';
  /** What the path is instead, e.g. `character device` or `FIFO (named pipe)`. */
  readonly kind: string;

  constructor(path: string, kind = 'special file', options?: ErrorOptions) {
    super(path, `${path} is a ${kind}, not a regular file`, options);
    this.kind = kind;
  }
}

/** A file is larger than its reader accepts (or grew past that while being read). */
export class FileTooLargeError extends FileRefusedError {
  override readonly code: string = 'TORSION_ERR_FILE_TOO_LARGE';
  /** The largest size accepted, in bytes. */
  readonly maxBytes: number;

  constructor(path: string, maxBytes = 0, options?: ErrorOptions) {
    super(path, `${path} is larger than the limit of ${maxBytes} bytes`, options);
    this.maxBytes = maxBytes;
  }
}

/** Why a TLS handshake failed: the `code` of a {@link TLSError}. */
export type TLSErrorCode =
  /** The peer's certificate does not chain to a trusted root (unknown CA, self-signed). */
  | 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED'
  /** The certificate is valid but not for the host name (or IP address) connected to. */
  | 'TORSION_ERR_TLS_HOSTNAME_MISMATCH'
  /** The certificate has expired, or is not valid yet. */
  | 'TORSION_ERR_TLS_CERTIFICATE_EXPIRED'
  /** The peer refused this side's certificate (it sent an alert about it). */
  | 'TORSION_ERR_TLS_CERTIFICATE_REJECTED_BY_PEER'
  /** The server requires a client certificate and none (or no valid one) was sent. */
  | 'TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED'
  /** No TLS version both sides accept (e.g. a TLS 1.1 peer; 1.2 is the minimum by default). */
  | 'TORSION_ERR_TLS_PROTOCOL_VERSION'
  /** No ALPN protocol both sides accept. */
  | 'TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL'
  /** The peer did not speak TLS (plaintext, an HTTP request, garbage). */
  | 'TORSION_ERR_TLS_NOT_TLS'
  /** The handshake did not finish within the handshake timeout. */
  | 'TORSION_ERR_TLS_HANDSHAKE_TIMEOUT'
  /** The connection closed or reset before the handshake finished. */
  | 'TORSION_ERR_TLS_CONNECTION_CLOSED'
  /** Any other handshake failure; `cause` says which. */
  | 'TORSION_ERR_TLS_HANDSHAKE_FAILED';

/**
 * A TLS handshake failed. `code` says why, stably (see {@link TLSErrorCode});
 * `cause` holds the underlying error (OpenSSL's reason, Node's or Bun's code).
 *
 * A ConnectError, so it reaches `clientConnectionFailed` like any other failed
 * connect (`connectSSL` connects the protocol only after the handshake);
 * after `startTLS()` on an open connection it is the `connectionLost` reason.
 */
export class TLSError extends ConnectError {
  override readonly code: TLSErrorCode;
  constructor(code: TLSErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

// ---------------------------------------------------------------- UDP

/**
 * A datagram is too large to send (Twisted's `MessageLengthError`): over the
 * 65,507 bytes an IPv4 UDP datagram can carry (65,527 over IPv6), over a
 * simulated link's MTU, or refused by the operating system (`EMSGSIZE`,
 * then the `cause`). Thrown by `transport.write()` when the size alone
 * decides; a refusal the system reports later is logged with this error.
 */
export class MessageLengthError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_MESSAGE_LENGTH';
  /** The datagram's length in bytes. */
  readonly length: number;
  /** The largest datagram that could have been sent, in bytes (0 when unknown). */
  readonly maxLength: number;

  constructor(length: number, maxLength: number, options?: ErrorOptions) {
    const size = length > 0 ? ` of ${String(length)} bytes` : '';
    const limit = maxLength > 0 ? `, more than the ${String(maxLength)} bytes allowed` : '';
    super(`A datagram${size} is too long to send${limit}`, options);
    this.length = length;
    this.maxLength = maxLength;
  }
}

/**
 * A UDP address was refused (Twisted's `InvalidAddressError`): a host name
 * where an IP address literal is needed (`write()`, `connect()` and
 * `listenUDP`'s `interface` resolve nothing), an IPv6 address on an IPv4
 * port or the reverse, an address given to `write()` on a connected
 * transport, or none given on an unconnected one. A programmer error, so it
 * is thrown.
 */
export class InvalidAddressError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_INVALID_ADDRESS';
  /** The address refused, as given (`''` when none was given). */
  readonly address: string;

  constructor(address: string, why: string, options?: ErrorOptions) {
    super(address === '' ? why : `${address}: ${why}`, options);
    this.address = address;
  }
}

/**
 * A UDP transport was used while its port is not listening: before the bind
 * completed (wait for `startProtocol()` or `whenListening()`), or after
 * `stopListening()`. Thrown, as Twisted's transport has no socket then.
 */
export class UDPNotListeningError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_UDP_NOT_LISTENING';
  constructor(what: string, options?: ErrorOptions) {
    super(`${what}: the UDP port is not listening`, options);
  }
}

/**
 * `connect()` on a UDP transport that is already connected. Twisted refuses
 * it too ("reconnecting is not currently supported"): listen on a new port
 * to talk to another peer.
 */
export class UDPAlreadyConnectedError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_UDP_ALREADY_CONNECTED';
  constructor(connectedTo: string, options?: ErrorOptions) {
    super(`The UDP transport is already connected to ${connectedTo}`, options);
  }
}
