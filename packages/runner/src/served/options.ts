/**
 * The runner's serving options: `--shutdown-timeout`, `--access-log` and
 * `--metrics` (global, before the plugin name or in any group, like
 * `--log-format`), and the policy flags `--max-connections`,
 * `--max-connections-per-peer` and `--idle-timeout` (per plugin group: each
 * `+`-separated group has its own limits, shared by its endpoints).
 *
 * Tests: test/served-options.test.ts, test/served/served.integration.test.ts
 * @module
 */
import { parseServerDescription, type EndpointDescription } from '@torsion/core';
import type { ParseArgsConfig } from 'node:util';

/**
 * Seconds a drain waits by default before aborting what is left: the grace
 * period the reactor's own shutdown has always given connections, so that a
 * server with idle clients stops as quickly as before. Set a longer one for
 * long transfers (Kubernetes allows 30 s between SIGTERM and SIGKILL).
 */
export const DEFAULT_SHUTDOWN_TIMEOUT = 5;

/** The parseArgs definitions the runner adds to its own options (all take a value). */
export const SERVED_OPTIONS = {
  'shutdown-timeout': { type: 'string' },
  'access-log': { type: 'string' },
  metrics: { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-peer': { type: 'string' },
  'idle-timeout': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * Runner options a plugin may define for itself (finger has its own
 * `--idle-timeout`): in that plugin's group the option is the plugin's, and
 * the runner's policy is not applied.
 */
export const PLUGIN_OVERRIDABLE: readonly string[] = ['idle-timeout'];

/** Every flag of {@link SERVED_OPTIONS} (all take a value). */
export const SERVED_FLAGS: readonly string[] = Object.keys(SERVED_OPTIONS).map(
  (name) => `--${name}`,
);

/** The flags of {@link SERVED_OPTIONS} that may come before the plugin name. */
export const SERVED_GLOBAL_FLAGS: readonly string[] = [
  '--shutdown-timeout',
  '--access-log',
  '--metrics',
];

/** A bad value for one of these options; the message names the option. */
export class ServedOptionError extends Error {}

/** What the global serving options asked for. */
export interface ServedSettings {
  /** Seconds to drain on SIGTERM/SIGINT; 0: no drain, the reactor's own shutdown. */
  shutdownTimeout: number;
  /** `-` for stdout, else a file to append to; `undefined`: no access log. */
  accessLog?: string;
  /** Where to serve GET /metrics; `undefined`: no metrics. */
  metrics?: EndpointDescription;
}

/** Per plugin group: the connection policies around its factory. */
export interface PolicySettings {
  maxConnections?: number;
  maxConnectionsPerPeer?: number;
  /** Seconds without a byte either way before a connection is closed. */
  idleTimeout?: number;
}

/** The defaults: a 30 s drain, no access log, no metrics. */
export function defaultServedSettings(): ServedSettings {
  return { shutdownTimeout: DEFAULT_SHUTDOWN_TIMEOUT };
}

function seconds(option: string, text: string, allowZero: boolean): number {
  const value = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || (allowZero ? value < 0 : value <= 0)) {
    throw new ServedOptionError(
      `${option} must be a number of seconds${allowZero ? '' : ' above 0'}, got '${text}'`,
    );
  }
  return value;
}

function count(option: string, text: string): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ServedOptionError(`${option} must be a whole number of at least 1, got '${text}'`);
  }
  return value;
}

/**
 * Reads the global serving options of one group's parsed values into `settings`.
 * @throws ServedOptionError naming the option for a bad value.
 */
export function applyServedOptions(
  values: Record<string, unknown>,
  settings: ServedSettings,
): void {
  const timeout = values['shutdown-timeout'];
  if (typeof timeout === 'string') {
    settings.shutdownTimeout = seconds('--shutdown-timeout', timeout, true);
  }
  const accessLog = values['access-log'];
  if (typeof accessLog === 'string') {
    if (accessLog === '') throw new ServedOptionError("--access-log needs a file name or '-'");
    settings.accessLog = accessLog;
  }
  const metrics = values.metrics;
  if (typeof metrics === 'string') {
    try {
      settings.metrics = parseServerDescription(metrics);
    } catch (err) {
      throw new ServedOptionError(`--metrics: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * Reads one group's policy flags; `pluginOwns` are the plugin's own option
 * names, which the runner leaves to the plugin ({@link PLUGIN_OVERRIDABLE}).
 * @throws ServedOptionError naming the option for a bad value.
 */
export function readPolicySettings(
  values: Record<string, unknown>,
  pluginOwns: readonly string[] = [],
): PolicySettings {
  const settings: PolicySettings = {};
  const max = values['max-connections'];
  if (typeof max === 'string') settings.maxConnections = count('--max-connections', max);
  const perPeer = values['max-connections-per-peer'];
  if (typeof perPeer === 'string') {
    settings.maxConnectionsPerPeer = count('--max-connections-per-peer', perPeer);
  }
  const idle = values['idle-timeout'];
  if (typeof idle === 'string' && !pluginOwns.includes('idle-timeout'))
    settings.idleTimeout = seconds('--idle-timeout', idle, false);
  return settings;
}

/** The lines `torsion --help` gives these options. */
export const SERVED_HELP: readonly string[] = [
  'Serving (global; before the plugin name or in any group):',
  `  --shutdown-timeout SECONDS  on SIGTERM/SIGINT: stop accepting, tell protocols, wait this long,`,
  `                              abort what is left, exit 0 (default ${String(DEFAULT_SHUTDOWN_TIMEOUT)}; 0: close at once;`,
  '                              a second signal aborts at once)',
  "  --access-log FILE|-         one line per connection when it ends ('-': stdout; JSON with --log-format json)",
  '  --metrics ENDPOINT          serve Prometheus metrics as GET /metrics (e.g. tcp:9464:interface=127.0.0.1)',
  'Policies (per plugin, after its name):',
  '  --max-connections N  --max-connections-per-peer N  --idle-timeout SECONDS',
];

/** The rows `torsion <plugin> --help` gives the per-plugin policy flags (the plugin's own options first). */
export function policyHelpRows(
  pluginOwns: readonly string[],
): [flag: string, description: string][] {
  const rows: [string, string][] = [
    ['    --max-connections N', 'refuse connections beyond N open at once'],
    ['    --max-connections-per-peer N', 'refuse a peer that has N open'],
  ];
  if (!pluginOwns.includes('idle-timeout')) {
    rows.push([
      '    --idle-timeout SECONDS',
      'close a connection idle (no byte either way) this long',
    ]);
  }
  return rows;
}
