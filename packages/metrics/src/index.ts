/**
 * `@torsion/metrics`: Prometheus metrics for Torsion servers. The runner's
 * `--metrics ENDPOINT` uses it; so can any application.
 *
 * - {@link ServerMetrics}: one process's registry, fed by plain
 *   {@link PluginCounters} the server keeps per plugin, plus prom-client's
 *   default metrics (event-loop delay, memory, CPU).
 * - {@link MetricsHTTPFactory}: a tiny `GET /metrics` responder, written as a
 *   Torsion protocol, so it listens on any Torsion endpoint and reactor.
 * - {@link clusterMetrics}: for `torsion --workers`, the primary's view of
 *   every worker's metrics, summed.
 *
 * Tests: test/server-metrics.test.ts, test/metrics-http.test.ts,
 *   test/cluster-metrics.integration.test.ts
 * @module
 */
export {
  CONNECTION_ENDINGS,
  countRefusal,
  newPluginCounters,
  type ConnectionEnding,
  type PluginCounters,
} from './plugin-counters.js';
export { ServerMetrics, type MetricsPage, type ServerMetricsOptions } from './server-metrics.js';
export { clusterMetrics } from './cluster-metrics.js';
export { MetricsHTTPFactory, MetricsHTTPProtocol, type MetricsSource } from './metrics-http.js';
