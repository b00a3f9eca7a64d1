/**
 * `ServerMetrics`: the Prometheus registry of one server process — the
 * per-plugin connection counters (read from {@link PluginCounters} at
 * scrape time) and prom-client's default process metrics, event-loop delay
 * among them.
 *
 * Tests: test/server-metrics.test.ts
 * @module
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

import { CONNECTION_ENDINGS, type PluginCounters } from './plugin-counters.js';

/** A rendered scrape: what GET /metrics answers. */
export interface MetricsPage {
  /** The `Content-Type` of the body (Prometheus text format 0.0.4). */
  readonly contentType: string;
  readonly body: string;
}

/** Options for {@link ServerMetrics}. */
export interface ServerMetricsOptions {
  /** Also collect prom-client's default process metrics (CPU, memory, event-loop delay, GC). Default `true`. */
  readonly defaultMetrics?: boolean;
  /**
   * When this process is a `node:cluster` worker, offer the registry to the
   * primary's {@link clusterMetrics}. Default `true`.
   */
  readonly shareWithPrimary?: boolean;
}

/**
 * The metrics of one server process. Counters are plain numbers kept by the
 * server ({@link PluginCounters}); they are copied into prom-client's
 * metrics only when the registry is read, so serving a connection costs no
 * prom-client call.
 *
 * Metric names (all labelled `plugin`):
 * `torsion_connections_open` (gauge), `torsion_connections_accepted_total`,
 * `torsion_connections_ended_total` (label `ending`: clean, lost,
 * drain-aborted, refused), `torsion_connections_refused_total` (labels
 * `policy`, `reason`), `torsion_bytes_received_total`,
 * `torsion_bytes_sent_total`, `torsion_protocol_errors_total`,
 * `torsion_tls_handshake_failures_total`; plus prom-client's defaults
 * (`nodejs_eventloop_lag_seconds`, `process_resident_memory_bytes`, …).
 */
export class ServerMetrics {
  /** The registry holding every metric of this process. */
  readonly registry = new Registry();

  /**
   * @param source - the counters to publish, read at every scrape (a plugin
   *   added later appears at the next scrape).
   */
  constructor(
    readonly source: () => Iterable<PluginCounters>,
    options: ServerMetricsOptions = {},
  ) {
    const registers = [this.registry];
    const read = source;
    const each = (fn: (c: PluginCounters) => void): void => {
      for (const counters of read()) fn(counters);
    };
    new Gauge({
      name: 'torsion_connections_open',
      help: 'Connections open now, per plugin.',
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        each((c) => this.set({ plugin: c.plugin }, c.open));
      },
    });
    const total = (name: string, help: string, value: (c: PluginCounters) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['plugin'],
        registers,
        collect() {
          this.reset();
          each((c) => this.inc({ plugin: c.plugin }, value(c)));
        },
      });
    };
    total(
      'torsion_connections_accepted_total',
      'Connections accepted and handed to the plugin.',
      (c) => c.accepted,
    );
    total(
      'torsion_bytes_received_total',
      'Bytes received from peers (after any PROXY header).',
      (c) => c.bytesIn,
    );
    total('torsion_bytes_sent_total', 'Bytes written to peers.', (c) => c.bytesOut);
    total(
      'torsion_protocol_errors_total',
      'Connections lost with an error (reset, protocol exception, TLS failure).',
      (c) => c.protocolErrors,
    );
    total(
      'torsion_tls_handshake_failures_total',
      'Connections whose TLS handshake failed.',
      (c) => c.tlsHandshakeFailures,
    );
    new Counter({
      name: 'torsion_connections_ended_total',
      help: 'Connections that ended, by how: clean, lost, drain-aborted, refused.',
      labelNames: ['plugin', 'ending'],
      registers,
      collect() {
        this.reset();
        each((c) => {
          for (const ending of CONNECTION_ENDINGS) {
            this.inc({ plugin: c.plugin, ending }, c.ended[ending]);
          }
        });
      },
    });
    new Counter({
      name: 'torsion_connections_refused_total',
      help: 'Connections refused by a policy (connection limits, untrusted proxies, bad PROXY headers).',
      labelNames: ['plugin', 'policy', 'reason'],
      registers,
      collect() {
        this.reset();
        each((c) => {
          for (const { policy, reason, count } of c.refused.values()) {
            this.inc({ plugin: c.plugin, policy, reason }, count);
          }
        });
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    if ((options.shareWithPrimary ?? true) && cluster.isWorker) {
      // prom-client answers the primary's requests only once an AggregatorRegistry exists in the worker too.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([this.registry]);
    }
  }

  /** Renders every metric in the Prometheus text format. */
  async page(): Promise<MetricsPage> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
