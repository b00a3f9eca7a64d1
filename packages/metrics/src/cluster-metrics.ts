/**
 * `clusterMetrics`: the metrics of every `node:cluster` worker, summed, for
 * the primary to serve on its one metrics port.
 *
 * Tests: test/cluster-metrics.integration.test.ts
 * @module
 */
import { AggregatorRegistry, type PrometheusContentType } from 'prom-client';

import type { MetricsPage } from './server-metrics.js';

let aggregator: AggregatorRegistry<PrometheusContentType> | null = null;

/**
 * Asks every live `node:cluster` worker for its metrics and returns them
 * aggregated as one page (prom-client's `AggregatorRegistry.clusterMetrics()`):
 * counters and the open-connections gauge summed per label set, the
 * default process metrics as prom-client aggregates each.
 *
 * Call it in the **primary** (the `torsion --workers` supervisor), as the
 * source of {@link MetricsHTTPFactory} on the `--metrics` port; each worker
 * serves nothing itself and offers its {@link ServerMetrics} registry to the
 * primary (the default when a `ServerMetrics` is made in a worker).
 *
 * @returns a promise of the page; it rejects if a worker does not answer
 *   within prom-client's timeout (5 s), which the responder turns into a 503.
 * @remarks Only on Node: Bun has no `node:cluster` IPC of this kind.
 */
export async function clusterMetrics(): Promise<MetricsPage> {
  aggregator ??= new AggregatorRegistry();
  const body = await aggregator.clusterMetrics();
  return { contentType: aggregator.contentType, body };
}
