/**
 * `PluginCounters`: the plain numbers a server keeps per plugin while it
 * serves, and that `ServerMetrics` reads when it is scraped. Counting
 * is a field increment on the connection's path; nothing of prom-client
 * runs there.
 *
 * Tests: test/server-metrics.test.ts
 * @module
 */

/** How a connection ended, as the access log and the metrics name it. */
export type ConnectionEnding =
  /** Closed cleanly (`ConnectionDone`), by either side. */
  | 'clean'
  /** Lost with an error (a reset, a protocol exception, a TLS failure): a protocol error. */
  | 'lost'
  /** Still open at the drain deadline, and aborted. */
  | 'drain-aborted'
  /** Refused by a policy (a connection limit, an untrusted proxy) before the plugin saw it. */
  | 'refused';

/** Every {@link ConnectionEnding}, in a stable order. */
export const CONNECTION_ENDINGS: readonly ConnectionEnding[] = [
  'clean',
  'lost',
  'drain-aborted',
  'refused',
];

/** One plugin's running totals. Mutated in place by the server; read by `ServerMetrics`. */
export interface PluginCounters {
  /** The plugin's name: the `plugin` label. */
  readonly plugin: string;
  /** Connections open now. */
  open: number;
  /** Connections the plugin's factory accepted (built a protocol for). */
  accepted: number;
  /** Bytes received from peers (after any PROXY header) and bytes written to them. */
  bytesIn: number;
  bytesOut: number;
  /** Connections that ended, by how. */
  readonly ended: Record<ConnectionEnding, number>;
  /** Connections lost with an error (`ended.lost` plus those aborted for an error). */
  protocolErrors: number;
  /** Connections whose TLS handshake failed (a `TORSION_ERR_TLS_*` reason). */
  tlsHandshakeFailures: number;
  /** Refusals by policy and reason (`RefusalEvent` of @torsion/policies), keyed `policy reason`. */
  readonly refused: Map<
    string,
    { readonly policy: string; readonly reason: string; count: number }
  >;
}

/** A new set of counters for `plugin`, all zero. */
export function newPluginCounters(plugin: string): PluginCounters {
  return {
    plugin,
    open: 0,
    accepted: 0,
    bytesIn: 0,
    bytesOut: 0,
    ended: { clean: 0, lost: 0, 'drain-aborted': 0, refused: 0 },
    protocolErrors: 0,
    tlsHandshakeFailures: 0,
    refused: new Map(),
  };
}

/** Counts one refusal of `counters`' plugin by `policy` for `reason`. */
export function countRefusal(counters: PluginCounters, policy: string, reason: string): void {
  const key = `${policy} ${reason}`;
  const entry = counters.refused.get(key);
  if (entry === undefined) counters.refused.set(key, { policy, reason, count: 1 });
  else entry.count += 1;
  counters.ended.refused += 1;
}
