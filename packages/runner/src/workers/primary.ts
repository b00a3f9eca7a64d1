/**
 * `torsion --workers N` in the primary process: checks that the endpoints
 * can be shared, then runs a {@link Supervisor} on a reactor of its own (for
 * timers), and turns signals into its commands: SIGTERM and SIGINT stop the
 * workers (each drains, then the primary exits 0), SIGHUP restarts them one
 * at a time.
 *
 * Tests: test/workers-supervisor.integration.test.ts, test/workers-rolling.integration.test.ts,
 *   test/workers-options.test.ts
 * @module
 */
import {
  buildServerEndpoint,
  formatServerDescription,
  Logger,
  NodeReactor,
  type EndpointDescription,
  type IAddress,
  type IListeningPort,
  type IStreamServerEndpoint,
} from '@torsion/core';
import cluster from 'node:cluster';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningOnBun } from '../reactors.js';
import { RestartPolicy } from './restart-policy.js';
import { Supervisor } from './supervisor.js';
import { unshareableReason, workerArgv, type WorkerSettings } from './worker-options.js';

/** Seconds the primary allows a worker beyond its own drain time before killing it. */
export const STOP_MARGIN_SECONDS = 5;
/** Seconds a replacement worker has to listen during a rolling restart. */
export const READY_TIMEOUT_SECONDS = 30;
/** The reactor's own grace period, what a worker takes to stop with `--shutdown-timeout 0`. */
export const DEFAULT_DRAIN_SECONDS = 5;

/** A reason `--workers` cannot be used with this command line, for a usage error; `undefined` when it can. */
export function workersRefusal(
  endpoints: readonly EndpointDescription[],
  reactorName: string,
): string | undefined {
  if (cluster.isWorker) return '--workers inside a worker: the primary passes it on by mistake';
  if (runningOnBun() && reactorName !== 'node') {
    // Measured with Bun 1.4.5: node:cluster forks and shares node:net servers (through
    // SO_REUSEPORT), but BunReactor listens with Bun.listen, which the cluster does not share:
    // the second worker cannot bind the port.
    return `--workers under Bun needs --reactor node: BunReactor's workers cannot share a port (docs/deploying.md#bun)`;
  }
  for (const description of endpoints) {
    const reason = unshareableReason(description);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** What the primary needs beyond the worker settings. */
export interface PrimaryOptions {
  /** The whole command line, worker options included (they are removed for the workers). */
  readonly argv: readonly string[];
  readonly workers: WorkerSettings & { count: number };
  /** Module paths (and `ssl:` files of `--metrics`) are resolved from here. */
  readonly cwd: string;
  /** Seconds each worker may drain (its `--shutdown-timeout`); 0: no drain, the reactor's own grace period. */
  readonly drainSeconds?: number;
  /** `--metrics`: the primary serves every worker's metrics, summed, there. */
  readonly metrics?: EndpointDescription;
}

/**
 * Serves GET /metrics for the whole cluster on the primary's reactor: each
 * worker offers its registry, and `clusterMetrics` sums them per scrape.
 */
async function serveClusterMetrics(
  reactor: NodeReactor,
  description: EndpointDescription,
  cwd: string,
  log: Logger,
): Promise<IListeningPort<IAddress>> {
  const { clusterMetrics, MetricsHTTPFactory } = await import('@torsion/metrics');
  const endpoint = buildServerEndpoint(reactor, description, { cwd }) as IStreamServerEndpoint;
  const port = await endpoint.listen(new MetricsHTTPFactory(clusterMetrics));
  log.info(
    `metrics of every worker on ${port.getHost().toString()} (GET /metrics, from ${formatServerDescription(description)})`,
  );
  return port;
}

/**
 * Runs the workers until SIGTERM/SIGINT (exit code 0) or until none is left
 * after a crash loop or a failed start (1).
 */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const log = new Logger('torsion.workers');
  const reactor = new NodeReactor({ installSignalHandlers: false });
  // worker-main.js beside this module once built; worker-main.ts when a test runs the sources.
  const here = fileURLToPath(import.meta.url);
  const exec = fileURLToPath(new URL(`./worker-main${extname(here)}`, import.meta.url));
  const supervisor = new Supervisor({
    count: options.workers.count,
    exec,
    args: workerArgv(options.argv),
    time: reactor,
    policy: new RestartPolicy(reactor, options.workers.restart),
    stopDeadline:
      (options.drainSeconds === undefined || options.drainSeconds === 0
        ? DEFAULT_DRAIN_SECONDS
        : options.drainSeconds) + STOP_MARGIN_SECONDS,
    readyTimeout: READY_TIMEOUT_SECONDS,
    log,
  });
  const onStop = (signal: NodeJS.Signals): void => {
    supervisor.stop(`Received ${signal}`);
  };
  const onHangUp = (): void => {
    log.info('Received SIGHUP, restarting the workers one at a time');
    void supervisor.rollingRestart();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHangUp);
  const running = reactor.run();
  let metricsPort: IListeningPort<IAddress> | undefined;
  try {
    if (options.metrics !== undefined) {
      try {
        metricsPort = await serveClusterMetrics(reactor, options.metrics, options.cwd, log);
      } catch (err) {
        process.stderr.write(
          `torsion: cannot serve --metrics: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        return 1;
      }
    }
    log.info(`starting ${options.workers.count} workers`);
    return await supervisor.run();
  } finally {
    await metricsPort?.stopListening();
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHangUp);
    reactor.stop();
    await running;
  }
}
