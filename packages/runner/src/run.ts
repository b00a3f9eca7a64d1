/**
 * The `torsion` command as a function: `runServices(argv, io)` parses the
 * command line, loads each plugin, listens on its endpoints, and serves until
 * the reactor stops (SIGINT/SIGTERM), resolving with the exit code. With
 * `ssl:` endpoints, SIGHUP reloads their certificate files. The bin is a thin
 * wrapper, and tests call this in-process.
 *
 * Endpoint strings are @torsion/core's grammar (docs/endpoints.md): parsed
 * with `parseServerDescription` while the command line is read (a bad one
 * is a usage error), built with `buildServerEndpoint` once the reactor
 * exists (which reads `ssl:` files before anything listens). A `udp:`
 * endpoint serves the plugin's `makeDatagramProtocol`. A type a package
 * registers (`registerServerEndpointType`) is accepted once that package is
 * loaded: a plugin that imports it, before its `--listen` options are read.
 * With `--workers N` this process becomes the primary of N worker processes
 * that serve the same command line (workers/primary.ts, docs/deploying.md).
 *
 *   torsion [--log-format text|json] [--log-level LEVEL] [--reactor NAME]
 *           <plugin> [--listen ENDPOINT]... [plugin options] [+ <plugin> ...]
 *
 * Tests: test/run.test.ts, test/torsion.integration.test.ts, test/demo.integration.test.ts,
 *   test/ssl.integration.test.ts
 * @module
 */
import {
  buildServerEndpoint,
  CertificateFilesError,
  EndpointError,
  formatServerDescription,
  jsonFileObserver,
  Logger,
  parseServerDescription,
  serverDescriptionKind,
  setLogObservers,
  SSL4ServerEndpoint,
  textFileObserver,
  type EndpointDescription,
  type IAddress,
  type IDatagramServerEndpoint,
  type IListeningPort,
  type IReactor,
  type ISSLListeningPort,
  type IServiceMaker,
  type IStreamServerEndpoint,
  type LogLevel,
  type PluginOptionValues,
  type SSLServerDescription,
  type TextSink,
} from '@torsion/core';
import { createRequire } from 'node:module';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CertificateReloader, describeCertificate } from './certificate-reload.js';
import './endpoint-types.js'; // registers haproxy: before any --listen is parsed
import { BUILT_IN_PLUGINS, loadPlugin, PluginError } from './plugins.js';
import { AccessLogError } from './served/access-log.js';
import {
  applyServedOptions,
  defaultServedSettings,
  readPolicySettings,
  SERVED_FLAGS,
  SERVED_GLOBAL_FLAGS,
  SERVED_OPTIONS,
  ServedOptionError,
  PLUGIN_OVERRIDABLE,
  policyHelpRows,
  SERVED_HELP,
  type PolicySettings,
  type ServedSettings,
} from './served/options.js';
import { ServedConnections } from './served/serving.js';
import {
  BUILT_IN_REACTORS,
  createReactor,
  defaultReactorName,
  ReactorChoiceError,
} from './reactors.js';
import { runPrimary, workersRefusal } from './workers/primary.js';
import {
  applyWorkerOptions,
  defaultWorkerSettings,
  WORKER_FLAGS,
  WORKER_OPTIONS,
  WorkerOptionError,
  WORKERS_HELP,
  type WorkerSettings,
} from './workers/worker-options.js';

/** Where the runner reads and writes, and what it serves on. */
export interface RunnerIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Module paths given as plugins are resolved from here. */
  readonly cwd: string;
  /** Serve on this reactor instead of the one `--reactor` names (whose SIGINT/SIGTERM handlers stop it). */
  readonly reactor?: IReactor;
  /** Told the bound ports once everything listens (tests use it to find port 0's real port); the `--metrics` port, if any, last. */
  readonly onListening?: (ports: readonly IListeningPort<IAddress>[]) => void;
}

/** Exit code after a clean stop (SIGINT/SIGTERM), `--help` or `--version`. */
export const EXIT_OK = 0;
/** Exit code when a service cannot start: a bind failure, a plugin that fails to load or rejects its options. */
export const EXIT_FAILURE = 1;
/** Exit code for a usage error (unknown option, bad endpoint), as the classic Unix tools use it. */
export const EXIT_USAGE = 2;

/** Separates plugin groups on one command line: `torsion echo + finger`. */
const GROUP_SEPARATOR = '+';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical'];

/** Options the runner owns in every group; plugins cannot redefine them. */
const RUNNER_OPTIONS = {
  listen: { type: 'string', short: 'l', multiple: true },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  reactor: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...SERVED_OPTIONS,
  ...WORKER_OPTIONS,
} as const satisfies NonNullable<ParseArgsConfig['options']>;

class UsageError extends Error {}

interface ServiceGroup {
  readonly plugin: IServiceMaker;
  readonly endpoints: readonly EndpointDescription[];
  readonly values: PluginOptionValues;
  /** `--max-connections`, `--max-connections-per-peer`, `--idle-timeout` of this group. */
  readonly policies: PolicySettings;
}

interface GlobalSettings {
  logFormat: 'text' | 'json';
  logLevel: LogLevel;
  /** As given with `--reactor`; the runtime's native reactor when absent. */
  reactor?: string;
  /** `--workers` and its restart limits (workers/worker-options.ts). */
  workers: WorkerSettings;
  /** `--shutdown-timeout`, `--access-log`, `--metrics` (served/options.ts). */
  served: ServedSettings;
}

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

function splitGroups(argv: readonly string[]): string[][] {
  const groups: string[][] = [[]];
  for (const arg of argv) {
    if (arg === GROUP_SEPARATOR) groups.push([]);
    else groups[groups.length - 1]?.push(arg);
  }
  return groups;
}

/** Leading runner options before the first plugin name (`torsion --log-format json echo`). */
function takeLeadingOptions(args: string[]): string[] {
  const leading: string[] = [];
  while (args.length > 0 && args[0]?.startsWith('-') === true) {
    const arg = args.shift() ?? '';
    leading.push(arg);
    const takesValue = [
      '--log-format',
      '--log-level',
      '--reactor',
      '--listen',
      '-l',
      ...WORKER_FLAGS,
      ...SERVED_FLAGS,
    ].includes(arg);
    if (takesValue && args.length > 0) leading.push(args.shift() ?? '');
  }
  return leading;
}

function applyGlobal(values: Record<string, unknown>, settings: GlobalSettings): void {
  const format = values['log-format'];
  if (typeof format === 'string') {
    if (format !== 'text' && format !== 'json') {
      throw new UsageError(`--log-format must be 'text' or 'json', got '${format}'`);
    }
    settings.logFormat = format;
  }
  const level = values['log-level'];
  if (typeof level === 'string') {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
    }
    settings.logLevel = level as LogLevel;
  }
  const reactor = values.reactor;
  if (typeof reactor === 'string') {
    if (reactor === '') throw new UsageError('--reactor needs a name');
    settings.reactor = reactor;
  }
  try {
    applyWorkerOptions(values, settings.workers);
    applyServedOptions(values, settings.served);
  } catch (err) {
    if (err instanceof WorkerOptionError || err instanceof ServedOptionError) {
      throw new UsageError(err.message);
    }
    throw err;
  }
}

function parseOptions(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  context: string,
): Record<string, unknown> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(context === '' ? message : `${context}: ${message}`);
  }
}

function pluginParseOptions(plugin: IServiceMaker): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { ...RUNNER_OPTIONS };
  for (const [name, option] of Object.entries(plugin.options)) {
    if (name in RUNNER_OPTIONS && !PLUGIN_OVERRIDABLE.includes(name)) {
      throw new PluginError(`plugin '${plugin.name}' defines --${name}, which the runner owns`);
    }
    options[name] = {
      type: option.type,
      ...(option.short === undefined ? {} : { short: option.short }),
      ...(option.multiple === undefined ? {} : { multiple: option.multiple }),
    };
  }
  return options;
}

/** `torsion --help`: usage and the built-in plugins with their descriptions. */
async function generalHelp(cwd: string): Promise<string> {
  const lines = [
    'Usage: torsion [--log-format text|json] [--log-level LEVEL] [--reactor NAME] [--workers N|auto]',
    '               <plugin> [--listen ENDPOINT]... [plugin options] [+ <plugin> ...]',
    '',
    'Serves each plugin on its endpoints until SIGINT or SIGTERM, then stops',
    'listening, drains open connections (--shutdown-timeout), and exits 0.',
    '',
    'Plugins:',
  ];
  for (const name of Object.keys(BUILT_IN_PLUGINS)) {
    try {
      const plugin = await loadPlugin(name, cwd);
      lines.push(
        `  ${name.padEnd(10)} ${plugin.description} (default ${plugin.defaultListen.join(', ')})`,
      );
    } catch {
      lines.push(`  ${name.padEnd(10)} (not installed)`);
    }
  }
  lines.push(
    '  <path>     a module (./my-plugin.js) whose default export is a plugin',
    '  <package>  a package whose ./plugin export (or main export) is a plugin',
    '',
    'Endpoints: tcp:PORT[:interface=ADDR][:backlog=N]    tcp6:PORT[:interface=ADDR][:backlog=N]',
    '           ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:interface=ADDR]',
    '               [:backlog=N][:caCerts=FILE:clientCertificates=request|require]',
    '               [:alpn=PROTO,...][:minVersion=TLSv1.2|TLSv1.3]   (SIGHUP reloads the files)',
    '           unix:PATH[:mode=0666][:lockfile=1][:backlog=N]   (@NAME: an abstract name)',
    '           systemd:domain=INET|INET6|UNIX:index=N   (a socket systemd passed)',
    '           udp:PORT[:interface=ADDR][:maxPacketSize=N]   (plugins that serve datagrams)',
    '           haproxy:[trust=CIDR,...:][timeout=SECONDS:]ENDPOINT   (behind a PROXY-protocol proxy)',
    "  IPv6: escape the colons and quote for the shell: --listen 'tcp:8007:interface=\\:\\:1'",
    '  More in docs/endpoints.md; packages a plugin loads may add endpoint types.',
    "Several plugins in one process: separate them with '+'.",
    ...SERVED_HELP,
    ...WORKERS_HELP,
    `Reactors: ${BUILT_IN_REACTORS.join(', ')}, or a module exporting createReactor() (default here: ${defaultReactorName()})`,
    "`torsion <plugin> --help` lists a plugin's options.",
  );
  return lines.join('\n') + '\n';
}

/** `torsion <plugin> --help`. */
function pluginHelp(plugin: IServiceMaker): string {
  const rows: [flag: string, description: string][] = [
    [
      '-l, --listen ENDPOINT',
      `where to listen, repeatable (default: ${plugin.defaultListen.join(', ')})`,
    ],
  ];
  for (const [name, option] of Object.entries(plugin.options)) {
    const flag = `${option.short === undefined ? '    ' : `-${option.short}, `}--${name}${
      option.type === 'string' ? ` ${option.valueName ?? 'VALUE'}` : ''
    }`;
    const fallback =
      option.default === undefined || /\(default/i.test(option.description)
        ? ''
        : ` (default: ${String(option.default)})`;
    rows.push([flag, `${option.description}${fallback}`]);
  }
  rows.push(
    ['    --log-format FORMAT', 'text (default) or json, on stderr'],
    ['    --log-level LEVEL', 'debug, info (default), warn, error or critical'],
    ...policyHelpRows(Object.keys(plugin.options)),
    ['-h, --help', 'show this help'],
  );
  // One column for every description, however long a plugin's flags are.
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return (
    [
      `Usage: torsion ${plugin.name} [--listen ENDPOINT]... [options]`,
      '',
      plugin.description,
      '',
      'Options:',
      ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`),
    ].join('\n') + '\n'
  );
}

function pluginValues(plugin: IServiceMaker, parsed: Record<string, unknown>): PluginOptionValues {
  const values: Record<string, PluginOptionValues[string]> = {};
  for (const [name, option] of Object.entries(plugin.options)) {
    values[name] = (parsed[name] ?? option.default) as PluginOptionValues[string];
  }
  return values;
}

function parseEndpoints(plugin: IServiceMaker, listen: unknown): EndpointDescription[] {
  const descriptions = Array.isArray(listen) ? (listen as string[]) : [...plugin.defaultListen];
  return descriptions.map((text) => {
    const description = parseServerDescription(text);
    if (
      serverDescriptionKind(description) === 'datagram' &&
      typeof plugin.makeDatagramProtocol !== 'function'
    ) {
      throw new EndpointError(
        `plugin '${plugin.name}' cannot serve ${formatServerDescription(description)}: it serves streams only (it has no makeDatagramProtocol); give it a stream endpoint such as tcp:PORT`,
      );
    }
    return description;
  });
}

/** An endpoint built from a description, with what the runner needs to serve and reload it. */
interface BuiltEndpoint {
  readonly description: EndpointDescription;
  readonly endpoint: IStreamServerEndpoint | IDatagramServerEndpoint;
}

/**
 * Builds every endpoint, before anything listens, so that a missing or
 * mismatched certificate file (or an endpoint the reactor cannot serve)
 * stops the start-up with nothing half-open.
 * @throws EndpointError for an endpoint the reactor cannot serve;
 *   CertificateFilesError, naming the plugin, for unusable files.
 */
function buildEndpoints(
  services: readonly ServiceGroup[],
  reactor: IReactor,
  cwd: string,
): BuiltEndpoint[][] {
  return services.map(({ plugin, endpoints }) =>
    endpoints.map((description) => {
      try {
        return { description, endpoint: buildServerEndpoint(reactor, description, { cwd }) };
      } catch (err) {
        if (err instanceof CertificateFilesError) {
          throw new CertificateFilesError(`${plugin.name}: ${err.message}`, { cause: err.cause });
        }
        throw err;
      }
    }),
  );
}

function installLogging(settings: GlobalSettings, stderr: TextSink): void {
  setLogObservers([
    settings.logFormat === 'json'
      ? jsonFileObserver(stderr, settings.logLevel)
      : textFileObserver(stderr, settings.logLevel),
  ]);
}

/**
 * Runs the `torsion` command line `argv` (without the program name).
 * @returns the exit code: 0 after a clean stop or `--help`, 1 when a service
 *   could not start, 2 for a usage error.
 */
export async function runServices(argv: readonly string[], io: RunnerIO): Promise<number> {
  const fail = (code: number, message: string): number => {
    io.stderr.write(`torsion: ${message}\n`);
    return code;
  };
  const settings: GlobalSettings = {
    logFormat: 'text',
    logLevel: 'info',
    workers: defaultWorkerSettings(),
    served: defaultServedSettings(),
  };
  const services: ServiceGroup[] = [];
  try {
    const groups = splitGroups(argv);
    const first = groups[0] ?? [];
    const leading = parseOptions(
      takeLeadingOptions(first),
      { ...RUNNER_OPTIONS, version: { type: 'boolean' } },
      '',
    );
    applyGlobal(leading, settings);
    if (leading.version === true) {
      io.stdout.write(`${version()}\n`);
      return EXIT_OK;
    }
    if (leading.help === true) {
      io.stdout.write(await generalHelp(io.cwd));
      return EXIT_OK;
    }
    if (leading.listen !== undefined) throw new UsageError('--listen goes after the plugin name');
    for (const flag of SERVED_FLAGS) {
      if (!SERVED_GLOBAL_FLAGS.includes(flag) && leading[flag.slice(2)] !== undefined) {
        throw new UsageError(`${flag} goes after the plugin name (it is set per plugin)`);
      }
    }
    for (const group of groups) {
      const [name, ...args] = group;
      if (name === undefined || name.startsWith('-')) {
        io.stderr.write(await generalHelp(io.cwd));
        throw new UsageError(
          name === undefined ? 'name a plugin to run' : `expected a plugin name, got '${name}'`,
        );
      }
      const plugin = await loadPlugin(name, io.cwd);
      const parsed = parseOptions(args, pluginParseOptions(plugin), plugin.name);
      if (parsed.help === true) {
        io.stdout.write(pluginHelp(plugin));
        return EXIT_OK;
      }
      applyGlobal(parsed, settings);
      services.push({
        plugin,
        endpoints: parseEndpoints(plugin, parsed.listen),
        values: pluginValues(plugin, parsed),
        policies: readPolicySettings(parsed, Object.keys(plugin.options)),
      });
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof EndpointError ||
      err instanceof ServedOptionError
    )
      return fail(EXIT_USAGE, err.message);
    if (err instanceof PluginError) return fail(EXIT_FAILURE, err.message);
    throw err;
  }

  const { count: workerCount } = settings.workers;
  if (workerCount !== undefined && io.reactor === undefined) {
    const refusal = workersRefusal(
      services.flatMap(({ endpoints }) => endpoints),
      settings.reactor ?? defaultReactorName(),
    );
    if (refusal !== undefined) return fail(EXIT_USAGE, refusal);
    installLogging(settings, io.stderr);
    return runPrimary({
      argv,
      cwd: io.cwd,
      workers: { ...settings.workers, count: workerCount },
      drainSeconds: settings.served.shutdownTimeout,
      ...(settings.served.metrics === undefined ? {} : { metrics: settings.served.metrics }),
    });
  }
  installLogging(settings, io.stderr);
  const log = new Logger('torsion.runner');
  let reactor: IReactor;
  try {
    reactor = io.reactor ?? (await createReactor(settings.reactor, io.cwd));
  } catch (err) {
    if (err instanceof ReactorChoiceError) return fail(EXIT_USAGE, err.message);
    throw err;
  }
  let built: BuiltEndpoint[][];
  try {
    built = buildEndpoints(services, reactor, io.cwd);
  } catch (err) {
    if (err instanceof EndpointError) return fail(EXIT_USAGE, err.message);
    if (err instanceof CertificateFilesError) return fail(EXIT_FAILURE, err.message);
    throw err;
  }
  let served: ServedConnections;
  try {
    served = new ServedConnections({
      settings: settings.served,
      logFormat: settings.logFormat,
      stdout: io.stdout,
      cwd: io.cwd,
      log,
    });
  } catch (err) {
    if (err instanceof AccessLogError) return fail(EXIT_FAILURE, err.message);
    throw err;
  }
  const reloader = new CertificateReloader(log);
  const ports: IListeningPort<IAddress>[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(ports.map((port) => port.stopListening()));
    await served.close();
  };
  const failed = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  for (const [index, { plugin, values, policies }] of services.entries()) {
    const context = { reactor, log: new Logger(`torsion.${plugin.name}`) };
    const endpoints = built[index] ?? [];
    let factory = null;
    try {
      // Only a plugin with a stream endpoint needs a factory: a udp:-only one may have none to give.
      if (endpoints.some(({ description }) => serverDescriptionKind(description) === 'stream')) {
        factory = served.wrapGroup(
          plugin.name,
          await plugin.makeFactory(values, context),
          policies,
          reactor,
        );
      }
    } catch (err) {
      await closeAll();
      return fail(EXIT_FAILURE, `${plugin.name}: ${failed(err)}`);
    }
    for (const { description, endpoint } of endpoints) {
      const where = formatServerDescription(description);
      let port: IListeningPort<IAddress>;
      try {
        if (serverDescriptionKind(description) === 'datagram') {
          // One protocol per UDP port (checked at parse time that the plugin has the method).
          const protocol = await plugin.makeDatagramProtocol?.(values, context);
          if (protocol === undefined) throw new Error(`no datagram protocol for ${where}`);
          port = await (endpoint as IDatagramServerEndpoint).listen(protocol);
        } else {
          if (factory === null) throw new Error(`no factory for ${where}`);
          port = await (endpoint as IStreamServerEndpoint).listen(
            served.forEndpoint(plugin.name, factory, where),
          );
        }
      } catch (err) {
        await closeAll();
        return fail(EXIT_FAILURE, `${plugin.name}: cannot listen on ${where}: ${failed(err)}`);
      }
      ports.push(port);
      const host = port.getHost();
      if (endpoint instanceof SSL4ServerEndpoint) {
        const tls = endpoint.tlsOptions;
        reloader.add(
          plugin.name,
          description as SSLServerDescription,
          port as ISSLListeningPort,
          tls,
        );
        log.info(
          `${plugin.name} listening on ${host.toString()} over TLS (${describeCertificate(tls)})`,
          { plugin: plugin.name },
        );
      } else {
        const kind = serverDescriptionKind(description) === 'datagram' ? ' (UDP)' : '';
        log.info(`${plugin.name} listening on ${host.toString()}${kind}`, { plugin: plugin.name });
      }
    }
  }
  let metricsPort: IListeningPort<IAddress> | null;
  try {
    metricsPort = await served.startMetrics(reactor);
  } catch (err) {
    await closeAll();
    return fail(EXIT_FAILURE, `cannot serve --metrics: ${failed(err)}`);
  }
  const stopDraining = served.installDrain(reactor, ports);
  const stopReloading = reloader.reloadOnSignal();
  try {
    const stopped = reactor.run();
    io.onListening?.(metricsPort === null ? ports : [...ports, metricsPort]);
    await stopped;
  } finally {
    stopReloading();
    stopDraining();
    await served.close();
  }
  return EXIT_OK;
}
