/**
 * Connection tracking: {@link TrackingFactory} wraps a plugin's factory on
 * one endpoint and keeps, per connection ({@link TrackedConnection}), what
 * the access log, the metrics and the drain need — start time, bytes in
 * and out, how it ended — and the plugin's running totals
 * ({@link PluginCounters}).
 *
 * It sits inside the `haproxy:` wrapper, so its transport is the one the
 * plugin's protocol sees: `getHost()`/`getPeer()` are the PROXY header's
 * addresses, and bytes are counted after the header.
 *
 * Tests: test/served/tracking-factory.test.ts, test/served/drain.integration.test.ts
 * @module
 */
import {
  ConnectionDone,
  errorCode,
  type Failure,
  type IAddress,
  type IProtocol,
  type IProtocolFactory,
  type WriteData,
} from '@torsion/core';
import { ProtocolWrapper, WrappingFactory, type RefusalEvent } from '@torsion/policies';
import type { ConnectionEnding, PluginCounters } from '@torsion/metrics';

/** One ended connection, as the access log writes it. */
export interface ConnectionRecord {
  readonly plugin: string;
  /** The endpoint as given on the command line (`tcp:8007`). */
  readonly endpoint: string;
  /** This end's and the peer's addresses as the plugin's protocol saw them; `null` if unknown. */
  readonly local: IAddress | null;
  readonly peer: IAddress | null;
  /** Seconds from connect (after any PROXY header) to the end. */
  readonly duration: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly ending: ConnectionEnding;
  /** For `lost`: the error code of the reason (`TORSION_ERR_CONNECTION_LOST`, `ECONNRESET`, …). */
  readonly error?: string;
  /** For `refused`: which policy, and why. */
  readonly policy?: string;
  readonly reason?: string;
}

/** What the tracking factories report to. */
export interface ConnectionObserver {
  /** A tracked connection ended; `record` is `null` when nobody asked for records (no access log). */
  connectionEnded(connection: TrackedConnection, record: ConnectionRecord | null): void;
}

/** The first `TORSION_ERR_TLS_*` code on `error` or its cause: the handshake failed. */
function isTLSFailure(code: string | undefined, cause: unknown): boolean {
  return (
    code?.startsWith('TORSION_ERR_TLS_') === true ||
    errorCode(cause)?.startsWith('TORSION_ERR_TLS_') === true
  );
}

/**
 * One tracked connection. Counting is a few field updates per read and
 * write; nothing is allocated per chunk and no timer is armed.
 */
export class TrackedConnection extends ProtocolWrapper {
  declare readonly factory: TrackingFactory;
  /** `performance.now()` at connect. */
  startedAt = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Set by the drain just before it aborts the connection at the deadline. */
  drainAborted = false;

  override makeConnection(transport: Parameters<ProtocolWrapper['makeConnection']>[0]): void {
    this.startedAt = performance.now();
    const counters = this.factory.counters;
    counters.accepted += 1;
    counters.open += 1;
    super.makeConnection(transport);
  }

  override dataReceived(data: Buffer): void {
    this.bytesIn += data.length;
    this.factory.counters.bytesIn += data.length;
    super.dataReceived(data);
  }

  override write(data: WriteData): void {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.bytesOut += length;
    this.factory.counters.bytesOut += length;
    super.write(data);
  }

  override connectionLost(reason: Failure): void {
    const factory = this.factory;
    const counters = factory.counters;
    counters.open -= 1;
    let ending: ConnectionEnding;
    let error: string | undefined;
    if (this.drainAborted) {
      ending = 'drain-aborted';
    } else if (reason.value instanceof ConnectionDone) {
      ending = 'clean';
    } else {
      ending = 'lost';
      const cause = (reason.value as { cause?: unknown }).cause;
      error = errorCode(reason.value) ?? errorCode(cause) ?? reason.value.name;
      counters.protocolErrors += 1;
      if (isTLSFailure(error, cause)) counters.tlsHandshakeFailures += 1;
    }
    counters.ended[ending] += 1;
    let record: ConnectionRecord | null = null;
    if (factory.keepRecords) {
      let local: IAddress | null = null;
      let peer: IAddress | null = null;
      try {
        local = this.getHost();
        peer = this.getPeer();
      } catch {
        // An address the transport can no longer give is left out of the record.
      }
      record = {
        plugin: counters.plugin,
        endpoint: factory.endpoint,
        local,
        peer,
        duration: (performance.now() - this.startedAt) / 1000,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        ending,
        ...(error === undefined ? {} : { error }),
      };
    }
    try {
      super.connectionLost(reason);
    } finally {
      factory.observer.connectionEnded(this, record);
    }
  }
}

/**
 * Wraps a plugin's factory (or the policies around it) on one endpoint.
 *
 * It is on only when `--access-log` or `--metrics` asks for what it counts
 * (the drain uses the ports' own connection lists). It says what the
 * wrapped factory says about reading into a shared buffer, as every
 * `WrappingFactory` whose wrappers keep no chunk does: counting a chunk's
 * length keeps no reference to it. It has an `onRefused` member, so
 * a `haproxy:` endpoint in front of it reports the connections it refuses
 * (untrusted proxy, bad or late header) to the metrics and the access log.
 */
export class TrackingFactory extends WrappingFactory {
  /** Where refusals by a wrapper outside this one (`haproxy:`) are reported; see {@link RefusalEvent}. */
  readonly onRefused: ((event: RefusalEvent) => void) | undefined;

  constructor(
    wrappedFactory: IProtocolFactory,
    /** The plugin's running totals, shared by its endpoints. */
    readonly counters: PluginCounters,
    /** The endpoint as given (`tcp:8007`), for the access log. */
    readonly endpoint: string,
    readonly observer: ConnectionObserver,
    /** Build a {@link ConnectionRecord} when a connection ends (only the access log needs one). */
    readonly keepRecords: boolean,
    onRefused?: (event: RefusalEvent) => void,
  ) {
    super(wrappedFactory);
    this.onRefused = onRefused;
  }

  protected override wrapProtocol(wrapped: IProtocol): ProtocolWrapper {
    return new TrackedConnection(this, wrapped);
  }
}
