/**
 * `BaseUDPPort`: what every reactor's UDP port shares, on top of
 * {@link BasePort}: the argument checks of `listenUDP`, the transport half
 * (`write` with its address and size checks, connected UDP, broadcast and
 * multicast settings), delivery of each datagram to the protocol with an
 * exception contained to that datagram, and the protocol's
 * `makeConnection → startProtocol … stopProtocol` around the time the port
 * listens. A concrete port only does I/O: bind, close, send, and the socket
 * options.
 *
 * Tests: test/reactor-kit/base-udp-port.test.ts, test/udp.integration.test.ts,
 * test/testing/simulated/simulated-udp.test.ts, and the UDP section of the
 * conformance suite (@torsion/reactor-conformance) on every reactor
 * @module
 */
import { isIP } from 'node:net';
import {
  addressFor,
  IPv4Address,
  IPv6Address,
  type IAddress,
  type INETAddress,
} from '../address.js';
import { describeType } from '../describe-type.js';
import { errorCode } from '../error-code.js';
import {
  InvalidAddressError,
  MessageLengthError,
  UDPAlreadyConnectedError,
  UDPNotListeningError,
} from '../errors.js';
import { Deferred, fail, succeed } from '../deferred.js';
import type {
  DatagramDestination,
  IDatagramProtocol,
  IProtocol,
  IProtocolFactory,
  IUDPPort,
  IUDPTransport,
  ListenUDPOptions,
  WriteData,
} from '../interfaces.js';
import { assertWriteData } from '../internal/write-data.js';
import type { Logger } from '../log.js';
import { checkInteger, checkPort } from './argument-checks.js';
import { BasePort } from './base-port.js';
import { callMethodSafely, THREW } from './call-safely.js';
import type { OpenResources } from './open-resources.js';

/** The largest UDP payload over IPv4: 65,535 less the IPv4 (20) and UDP (8) headers. */
export const MAX_UDP_PAYLOAD_IPV4 = 65_507;
/** The largest UDP payload over IPv6 without jumbograms: 65,535 less the UDP header. */
export const MAX_UDP_PAYLOAD_IPV6 = 65_527;
/** `listenUDP`'s default `maxPacketSize`, Twisted's. */
export const DEFAULT_MAX_PACKET_SIZE = 8192;

/** `listenUDP` options after {@link checkListenUDP}: every default filled in. */
export interface CheckedListenUDPOptions {
  /** The interface to bind: `'0.0.0.0'` for `''`. */
  readonly iface: string;
  /** IPv6 when the interface is an IPv6 literal, else IPv4 (Twisted's rule). */
  readonly family: 'IPv4' | 'IPv6';
  readonly maxPacketSize: number;
  readonly listenMultiple: boolean;
}

/**
 * The argument checks every `listenUDP` makes.
 * @returns the options with their defaults: every IPv4 interface, `maxPacketSize` 8192.
 * @throws RangeError for a port outside 0..65535 or a bad `maxPacketSize`.
 * @throws TypeError if `protocol` is not a datagram protocol or an option has the wrong type.
 * @throws InvalidAddressError if the interface is not an IP address literal.
 */
export function checkListenUDP(
  port: number,
  protocol: unknown,
  options: ListenUDPOptions = {},
): CheckedListenUDPOptions {
  checkPort(port, 0);
  if (
    typeof protocol !== 'object' ||
    protocol === null ||
    typeof (protocol as Record<string, unknown>).datagramReceived !== 'function' ||
    typeof (protocol as Record<string, unknown>).makeConnection !== 'function'
  ) {
    throw new TypeError(
      `protocol must be a datagram protocol (makeConnection() and datagramReceived()), got ${describeType(protocol)}`,
    );
  }
  const iface = options.interface ?? '';
  if (typeof iface !== 'string') {
    throw new TypeError(`interface must be a string, got ${describeType(iface)}`);
  }
  const kind = iface === '' ? 4 : isIP(iface);
  if (kind === 0) {
    throw new InvalidAddressError(
      iface,
      'listenUDP() needs an IPv4 or IPv6 address literal as its interface, not a host name',
    );
  }
  const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  checkInteger(maxPacketSize, 'maxPacketSize', 1, 65_535);
  const listenMultiple = options.listenMultiple ?? false;
  if (typeof listenMultiple !== 'boolean') {
    throw new TypeError(`listenMultiple must be a boolean, got ${describeType(listenMultiple)}`);
  }
  return {
    iface: iface === '' ? '0.0.0.0' : iface,
    family: kind === 6 ? 'IPv6' : 'IPv4',
    maxPacketSize,
    listenMultiple,
  };
}

/** What a {@link BaseUDPPort} needs from its reactor. */
export interface BaseUDPPortOptions {
  /** The reactor's open resources: the port registers here while it is open. */
  readonly resources: OpenResources;
  /** The protocol that serves the port. */
  readonly protocol: IDatagramProtocol;
  /** The port asked for (0 lets the OS choose). */
  readonly port: number;
  /** `listenUDP`'s options, checked. */
  readonly options: CheckedListenUDPOptions;
  /** Where the port's events are logged (the reactor's UDP namespace). */
  readonly log: Logger;
}

/**
 * The shared half of a UDP port and its transport (the port is its own
 * transport, as in Twisted). Extend it to write a reactor's UDP.
 *
 * @remarks
 * The subclass implements `bind()`/`close()` as for {@link BasePort}
 * (reporting with `bound(address)`, `bindFailed(err)` and `closed()`), sends
 * with {@link BaseUDPPort.sendTo} and {@link BaseUDPPort.sendConnected}, and
 * applies the socket options. It calls {@link BaseUDPPort.datagramArrived} for
 * each datagram read, {@link BaseUDPPort.refusedByPeer} when the system
 * reports the connected peer's port closed, and {@link BaseUDPPort.sendFailed}
 * for a send the system refused after `write()` returned. Every argument
 * check happens here, so each hook gets valid values only, and only while the
 * port listens.
 */
export abstract class BaseUDPPort extends BasePort implements IUDPPort, IUDPTransport {
  /** The protocol that serves the port. */
  readonly protocol: IDatagramProtocol;
  /** The address family of the socket. */
  readonly family: 'IPv4' | 'IPv6';
  /** Datagrams longer than this are truncated to it before delivery. */
  readonly maxPacketSize: number;
  /** Other sockets may bind the same port (`SO_REUSEADDR`). */
  readonly listenMultiple: boolean;
  readonly #maxLength: number;
  #connectedTo: INETAddress | null = null;
  #broadcast = false;
  #ttl = 1;
  #loopback = true;
  /** The last address object `write()` checked: an echo answers the address it was given. */
  #lastDestination: DatagramDestination | null = null;

  /** @param options - see {@link BaseUDPPortOptions}. */
  protected constructor(options: BaseUDPPortOptions) {
    const starter = new ProtocolStarter(options.protocol, options.log);
    super({
      resources: options.resources,
      factory: starter,
      port: options.port,
      iface: options.options.iface,
      host: addressFor('UDP', options.options.iface, 0),
      log: options.log,
    });
    starter.port = this;
    this.protocol = options.protocol;
    this.family = options.options.family;
    this.maxPacketSize = options.options.maxPacketSize;
    this.listenMultiple = options.options.listenMultiple;
    this.#maxLength = this.family === 'IPv6' ? MAX_UDP_PAYLOAD_IPV6 : MAX_UDP_PAYLOAD_IPV4;
  }

  // ------------------------------------------------------------ for the subclass to provide

  /** Sends one datagram to `host:port` (an IP literal of the port's family). */
  protected abstract sendTo(data: WriteData, host: string, port: number): void;
  /** Sends one datagram to the connected peer. */
  protected abstract sendConnected(data: WriteData): void;
  /** Connects the socket to `host:port` (checked; called once). */
  protected abstract connectSocket(host: string, port: number): void;
  /** Sets `SO_BROADCAST`. */
  protected abstract setSocketBroadcast(enabled: boolean): void;
  /** Sets the multicast TTL (hop limit). */
  protected abstract setSocketMulticastTTL(ttl: number): void;
  /** Sets whether this host's own multicast datagrams loop back to it. */
  protected abstract setSocketMulticastLoopback(enabled: boolean): void;
  /** Joins (`join`) or leaves a multicast group; throws what the system refused. */
  protected abstract setSocketMembership(join: boolean, group: string, iface?: string): void;
  /** Sets the interface multicast datagrams leave by; throws what the system refused. */
  protected abstract setSocketMulticastInterface(iface: string): void;

  // ------------------------------------------------------------ for the subclass to call

  /**
   * One datagram was read from `from`: hands it to the protocol, unless the
   * port no longer listens or is connected to another peer. Longer than
   * `maxPacketSize`, it is truncated first. An exception from
   * `datagramReceived` is logged with its stack and costs only this datagram.
   */
  protected datagramArrived(data: Buffer, from: INETAddress): void {
    if (!this.accepting) return;
    const peer = this.#connectedTo;
    // The kernel filters a connected socket, but not what it queued before connect().
    if (peer !== null && (peer.port !== from.port || peer.host !== from.host)) return;
    const datagram = data.length > this.maxPacketSize ? data.subarray(0, this.maxPacketSize) : data;
    // Inline rather than callMethodSafely: this runs once per datagram, and a
    // rest-argument call would allocate an array each time.
    try {
      this.protocol.datagramReceived(datagram, from);
    } catch (err) {
      this.log.failure('Unhandled error in datagramReceived', err, {
        port: this.getHost().port,
        peer: from.toString(),
      });
    }
  }

  /** The connected peer's port is closed (ICMP port unreachable): tells the protocol. */
  protected refusedByPeer(): void {
    if (!this.accepting || this.#connectedTo === null) return;
    callMethodSafely(
      this.log,
      'Unhandled error in connectionRefused',
      { port: this.getHost().port, peer: this.#connectedTo.toString() },
      this.protocol,
      'connectionRefused',
    );
  }

  /**
   * The system refused a datagram after `write()` returned: `ECONNREFUSED`
   * on a connected transport reaches `connectionRefused()`; anything else is
   * logged at 'warn' (`EMSGSIZE` as a MessageLengthError), as a lost
   * datagram is nothing UDP promises to report.
   */
  protected sendFailed(err: unknown, length = 0): void {
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') {
      this.refusedByPeer();
      return;
    }
    const reported = code === 'EMSGSIZE' ? new MessageLengthError(length, 0, { cause: err }) : err;
    this.log.failure(
      'A datagram could not be sent',
      reported,
      { port: this.getHost().port },
      'warn',
    );
  }

  // ------------------------------------------------------------ IUDPTransport

  /** The transport (this port). */
  get transport(): IUDPTransport {
    return this;
  }

  /** The connected peer, or null. */
  get connectedTo(): INETAddress | null {
    return this.#connectedTo;
  }

  /**
   * Sends one datagram, to `address` or, on a connected transport, to its
   * peer. Returns at once: UDP does not say whether it arrived.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   * @throws MessageLengthError if the datagram is longer than UDP allows.
   * @throws InvalidAddressError for a host name, an address of the other
   *   family, an address on a connected transport, or none on an unconnected one.
   * @throws UDPNotListeningError before the port is bound or after it stopped.
   */
  write(data: WriteData, address?: DatagramDestination): void {
    if (!this.accepting) throw new UDPNotListeningError('write()');
    assertWriteData(data);
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (length > this.#maxLength) throw new MessageLengthError(length, this.#maxLength);
    const peer = this.#connectedTo;
    if (peer !== null) {
      if (address !== undefined && (address.host !== peer.host || address.port !== peer.port)) {
        throw new InvalidAddressError(
          `${address.host}:${String(address.port)}`,
          `this transport is connected to ${peer.toString()}: call write(data) without an address`,
        );
      }
      this.sendConnected(data);
      return;
    }
    if (address === undefined) {
      throw new InvalidAddressError(
        '',
        'write() on an unconnected UDP transport needs an address: write(data, { host, port })',
      );
    }
    if (address !== this.#lastDestination) {
      this.#checkDestination(address, 'write()');
      // Only an address object is remembered: a plain { host, port } may be changed and reused.
      if (address instanceof IPv4Address || address instanceof IPv6Address) {
        this.#lastDestination = address;
      }
    }
    this.sendTo(data, address.host, address.port);
  }

  /**
   * Connects to one peer (Twisted's `connect`): `write(data)` goes there, and
   * only its datagrams are received; if its port is closed, the protocol's
   * `connectionRefused()` may be called. Once only.
   * @throws InvalidAddressError for a host name or an address of the other family.
   * @throws RangeError for a port outside 1..65535.
   * @throws UDPAlreadyConnectedError if already connected.
   * @throws UDPNotListeningError before the port is bound or after it stopped.
   */
  connect(host: string, port: number): void {
    if (!this.accepting) throw new UDPNotListeningError('connect()');
    if (this.#connectedTo !== null)
      throw new UDPAlreadyConnectedError(this.#connectedTo.toString());
    this.#checkDestination({ host, port }, 'connect()');
    this.#connectedTo = addressFor('UDP', host, port);
    this.connectSocket(host, port);
  }

  /**
   * Allows sending to broadcast addresses (`SO_BROADCAST`).
   * @throws UDPNotListeningError before the port is bound or after it stopped.
   */
  setBroadcastAllowed(enabled: boolean): void {
    this.#checkListening('setBroadcastAllowed()');
    this.setSocketBroadcast(enabled);
    this.#broadcast = enabled;
  }

  /** Whether sending to broadcast addresses is allowed. Default false. */
  getBroadcastAllowed(): boolean {
    return this.#broadcast;
  }

  /**
   * Joins the multicast group `address` on the interface with address
   * `iface` (default: the system's choice).
   * @returns a Deferred that fails with the system's error (no such
   *   interface, not a multicast address).
   * @throws UDPNotListeningError before the port is bound or after it stopped.
   */
  joinGroup(address: string, iface?: string): Deferred<void> {
    this.#checkListening('joinGroup()');
    return this.#membership(true, address, iface);
  }

  /** Leaves a multicast group joined with {@link BaseUDPPort.joinGroup}. */
  leaveGroup(address: string, iface?: string): Deferred<void> {
    this.#checkListening('leaveGroup()');
    return this.#membership(false, address, iface);
  }

  /**
   * Sets the multicast TTL (IPv6: hop limit) of datagrams sent. Default 1:
   * they stay on the local network.
   * @throws RangeError unless `ttl` is an integer from 0 to 255.
   */
  setTTL(ttl: number): void {
    checkInteger(ttl, 'ttl', 0, 255);
    this.#checkListening('setTTL()');
    this.setSocketMulticastTTL(ttl);
    this.#ttl = ttl;
  }

  /** The multicast TTL. */
  getTTL(): number {
    return this.#ttl;
  }

  /** Sets whether multicast datagrams this host sends are delivered to it too. Default true. */
  setLoopbackMode(enabled: boolean): void {
    this.#checkListening('setLoopbackMode()');
    this.setSocketMulticastLoopback(enabled);
    this.#loopback = enabled;
  }

  /** Whether multicast datagrams loop back to this host. */
  getLoopbackMode(): boolean {
    return this.#loopback;
  }

  /**
   * Sends multicast datagrams out of the interface with address `iface`.
   * @returns a Deferred that fails with the system's error.
   */
  setOutgoingInterface(iface: string): Deferred<void> {
    this.#checkListening('setOutgoingInterface()');
    try {
      this.setSocketMulticastInterface(iface);
    } catch (err) {
      return fail<undefined>(err);
    }
    return succeed<undefined>(undefined);
  }

  // ------------------------------------------------------------ private

  #checkListening(what: string): void {
    if (!this.accepting) throw new UDPNotListeningError(what);
  }

  #membership(join: boolean, group: string, iface: string | undefined): Deferred<void> {
    const given: unknown = group;
    if (typeof given !== 'string' || isIP(given) === 0) {
      const shown = typeof given === 'string' ? given : describeType(given);
      return fail<undefined>(
        new InvalidAddressError(shown, 'a multicast group is an IP address literal'),
      );
    }
    try {
      this.setSocketMembership(join, group, iface);
    } catch (err) {
      return fail<undefined>(err);
    }
    return succeed<undefined>(undefined);
  }

  /** Checks a destination: an IP literal of this port's family, and a port 1..65535. */
  #checkDestination(address: DatagramDestination, what: string): void {
    const { host, port } = address as { host: unknown; port: unknown };
    if (typeof host !== 'string') {
      throw new TypeError(`${what} needs a host string, got ${describeType(host)}`);
    }
    checkPort(port, 1);
    const kind =
      address instanceof IPv4Address ? 4 : address instanceof IPv6Address ? 6 : isIP(host);
    if (kind === 0) {
      throw new InvalidAddressError(
        host,
        `${what} takes an IP address, not a host name (resolve it first)`,
      );
    }
    if ((kind === 6) !== (this.family === 'IPv6')) {
      throw new InvalidAddressError(
        host,
        `an ${this.family} port cannot send to an IPv${String(kind)} address (listen on '::' or '0.0.0.0' to match)`,
      );
    }
  }
}

/**
 * Stands in for a factory so that {@link BasePort} starts and stops the
 * protocol: `doStart` attaches the transport and calls `startProtocol`,
 * `doStop` calls `stopProtocol` (Twisted's `AbstractDatagramProtocol.doStart`
 * and `doStop`). It answers to the protocol's class name, so the port's log
 * lines and `toString()` name the user's protocol as a TCP port names its factory.
 */
class ProtocolStarter implements IProtocolFactory {
  port: BaseUDPPort | null = null;
  readonly #protocol: IDatagramProtocol;
  readonly #log: Logger;

  constructor(protocol: IDatagramProtocol, log: Logger) {
    this.#protocol = protocol;
    this.#log = log;
    Object.defineProperty(this, 'constructor', { value: protocol.constructor });
  }

  buildProtocol(addr: IAddress): IProtocol | null {
    void addr;
    return null;
  }

  doStart(): void {
    const port = this.port;
    if (port === null) return;
    const fields = { port: port.getHost().toString() };
    const attached = callMethodSafely(
      this.#log,
      'Unhandled error in makeConnection',
      fields,
      this.#protocol,
      'makeConnection',
      port,
    );
    if (attached === THREW) return;
    callMethodSafely(
      this.#log,
      'Unhandled error in startProtocol',
      fields,
      this.#protocol,
      'startProtocol',
    );
  }

  doStop(): void {
    const port = this.port;
    if (port === null) return;
    callMethodSafely(
      this.#log,
      'Unhandled error in stopProtocol',
      { port: port.getHost().toString() },
      this.#protocol,
      'stopProtocol',
    );
  }
}
