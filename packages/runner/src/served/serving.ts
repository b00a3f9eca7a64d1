/**
 * `ServedConnections`: what the runner adds around the factories it serves —
 * the policy wrappers (`--max-connections`, `--max-connections-per-peer`,
 * `--idle-timeout`), connection tracking, the access log, the metrics port
 * and the graceful drain — in one place, so that `runServices` makes a few
 * calls and each feature is on only when asked for.
 *
 * Tracking (a {@link TrackedConnection} around each connection) is on only
 * when `--access-log` or `--metrics` is given; otherwise the plugin's factory
 * is served as it is. The drain needs no tracking: it walks the listening
 * ports' own connection lists.
 *
 * Tests: test/served/served.integration.test.ts, test/served/drain.integration.test.ts,
 *   test/served/tracking-factory.test.ts, test/served/serving.test.ts
 * @module
 */
import {
  buildServerEndpoint,
  formatServerDescription,
  type IAddress,
  type IListeningPort,
  type IProtocolFactory,
  type IReactor,
  type IStreamServerEndpoint,
  type Logger,
  type TextSink,
} from '@torsion/core';
import { countRefusal, newPluginCounters, type PluginCounters } from '@torsion/metrics/counters';
import {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  TimeoutFactory,
  type RefusalEvent,
} from '@torsion/policies';
import cluster from 'node:cluster';

import { AccessLog } from './access-log.js';
import { Drain } from './drain.js';
import type { PolicySettings, ServedSettings } from './options.js';
import {
  TrackingFactory,
  type ConnectionObserver,
  type ConnectionRecord,
  type TrackedConnection,
} from './tracking-factory.js';

/** What {@link ServedConnections} needs from the runner. */
export interface ServedContext {
  readonly settings: ServedSettings;
  readonly logFormat: 'text' | 'json';
  readonly stdout: TextSink;
  readonly cwd: string;
  readonly log: Logger;
}

/** The runner's serving features; one per `runServices`. */
export class ServedConnections implements ConnectionObserver {
  readonly counters = new Map<string, PluginCounters>();
  readonly #accessLog: AccessLog | null;
  #drain: Drain | null = null;
  #metricsPort: IListeningPort<IAddress> | null = null;

  /** @throws AccessLogError when the access log file cannot be opened. */
  constructor(readonly context: ServedContext) {
    const { settings } = context;
    this.#accessLog =
      settings.accessLog === undefined
        ? null
        : new AccessLog(settings.accessLog, context.logFormat, context.stdout, context.cwd);
  }

  /** Whether connections are tracked at all: only for the access log and the metrics. */
  get tracking(): boolean {
    return this.#accessLog !== null || this.context.settings.metrics !== undefined;
  }

  /** The counters of `plugin`, made on first use. */
  countersFor(plugin: string): PluginCounters {
    let counters = this.counters.get(plugin);
    if (counters === undefined) {
      counters = newPluginCounters(plugin);
      this.counters.set(plugin, counters);
    }
    return counters;
  }

  /**
   * The policy wrappers of one plugin group around its factory, shared by
   * the group's endpoints: the connection limits outside, the idle timeout
   * inside. The factory itself when no policy flag was given.
   */
  wrapGroup(
    plugin: string,
    factory: IProtocolFactory,
    policies: PolicySettings,
    reactor: IReactor,
  ): IProtocolFactory {
    let wrapped = factory;
    if (policies.idleTimeout !== undefined) {
      wrapped = new TimeoutFactory(wrapped, {
        timeoutPeriod: policies.idleTimeout,
        clock: reactor,
      });
    }
    const onRefused = (event: RefusalEvent): void => {
      this.#refused(plugin, event);
    };
    if (policies.maxConnectionsPerPeer !== undefined) {
      wrapped = new LimitConnectionsByPeer(wrapped, policies.maxConnectionsPerPeer, { onRefused });
    }
    if (policies.maxConnections !== undefined) {
      wrapped = new LimitTotalConnectionsFactory(wrapped, policies.maxConnections, { onRefused });
    }
    return wrapped;
  }

  /** The factory to listen with on `endpoint`: `factory` tracked, or `factory` itself when nothing needs tracking. */
  forEndpoint(plugin: string, factory: IProtocolFactory, endpoint: string): IProtocolFactory {
    if (!this.tracking) return factory;
    return new TrackingFactory(
      factory,
      this.countersFor(plugin),
      endpoint,
      this,
      this.#accessLog !== null,
      (event) => {
        this.#refused(plugin, event);
      },
    );
  }

  // ------------------------------------------------------------ ConnectionObserver

  connectionEnded(connection: TrackedConnection, record: ConnectionRecord | null): void {
    void connection;
    if (record !== null) this.#writeRecord(record);
  }

  // ------------------------------------------------------------ metrics, drain

  /**
   * Serves GET /metrics on `--metrics`, if given. In a `node:cluster` worker
   * it listens on nothing: the registry is offered to the primary, which
   * serves every worker's metrics summed on the one port.
   * @returns the metrics port, or `null`.
   */
  async startMetrics(reactor: IReactor): Promise<IListeningPort<IAddress> | null> {
    const description = this.context.settings.metrics;
    if (description === undefined) return null;
    const { ServerMetrics, MetricsHTTPFactory } = await import('@torsion/metrics');
    const metrics = new ServerMetrics(() => this.counters.values());
    if (cluster.isWorker) return null;
    const endpoint = buildServerEndpoint(reactor, description, { cwd: this.context.cwd });
    const port = await (endpoint as IStreamServerEndpoint).listen(
      new MetricsHTTPFactory(() => metrics.page()),
    );
    this.#metricsPort = port;
    this.context.log.info(
      `metrics on ${port.getHost().toString()} (GET /metrics, from ${formatServerDescription(description)})`,
    );
    return port;
  }

  /**
   * Makes the reactor drain before it shuts down (unless `--shutdown-timeout 0`):
   * `ports` stop listening, and connections get `shutdownTimeout` seconds.
   * @returns a function that removes the drain again.
   */
  installDrain(reactor: IReactor, ports: readonly IListeningPort<IAddress>[]): () => void {
    const timeout = this.context.settings.shutdownTimeout;
    if (timeout <= 0) return () => undefined;
    const id = reactor.addSystemEventTrigger('before', 'shutdown', async () => {
      this.#drain = new Drain(reactor, ports, timeout, this.context.log);
      await this.#drain.run();
    });
    return () => {
      try {
        reactor.removeSystemEventTrigger(id);
      } catch {
        // Already fired and removed.
      }
    };
  }

  /** Aborts a running drain at once (what a second SIGTERM does). */
  abortDrain(): void {
    this.#drain?.abortAll();
  }

  /** Closes the access log and the metrics port. */
  async close(): Promise<void> {
    await this.#metricsPort?.stopListening();
    this.#accessLog?.close();
  }

  #refused(plugin: string, event: RefusalEvent): void {
    countRefusal(this.countersFor(plugin), event.policy, event.reason);
    if (this.#accessLog !== null) {
      this.#writeRecord({
        plugin,
        endpoint: '',
        local: null,
        peer: event.peer,
        duration: 0,
        bytesIn: 0,
        bytesOut: 0,
        ending: 'refused',
        policy: event.policy,
        reason: event.reason,
      });
    }
  }

  #writeRecord(record: ConnectionRecord): void {
    try {
      this.#accessLog?.write(record);
    } catch (err) {
      this.context.log.failure('Could not write the access log', err);
    }
  }
}
