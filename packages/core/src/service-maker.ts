/**
 * The contract between the `torsion` runner and the packages that plug into it
 * (Twisted's `IServiceMaker`). A protocol package exports one of these from a
 * `./plugin` subpath; the runner parses the command line, listens on each
 * endpoint and serves the factory the plugin makes. Declarations only.
 *
 * Tests: packages/runner/test (the runner loads real plugins)
 * @module
 */
import type { IDatagramProtocol, IProtocolFactory, IReactor } from './interfaces.js';
import type { Logger } from './log.js';

/** One command-line option of a plugin, as `node:util` `parseArgs` understands it. */
export interface PluginOption {
  readonly type: 'string' | 'boolean';
  /** One line for `--help`. */
  readonly description: string;
  /** A one-letter alias. */
  readonly short?: string;
  /** May be given several times (the value is then an array). */
  readonly multiple?: boolean;
  readonly default?: string | boolean | readonly string[] | readonly boolean[];
  /** What the value stands for in `--help`, e.g. `FILE`. */
  readonly valueName?: string;
}

/** Parsed option values, by option name. */
export type PluginOptionValues = Readonly<
  Record<string, string | boolean | readonly string[] | readonly boolean[] | undefined>
>;

/** What a plugin's `makeFactory` receives besides its options. */
export interface PluginContext {
  /** The reactor the runner serves on. */
  readonly reactor: IReactor;
  /** A logger in the plugin's namespace (`torsion.<name>`). */
  readonly log: Logger;
}

/** A service the `torsion` runner can start: `torsion <name> [--listen ENDPOINT]... [options]`. */
export interface IServiceMaker {
  /** The command name, e.g. `echo`. Lowercase letters, digits and dashes. */
  readonly name: string;
  /** One line for `torsion --help`. */
  readonly description: string;
  /** Endpoints served when no `--listen` is given, e.g. `['tcp:8007']`. */
  readonly defaultListen: readonly string[];
  /** The plugin's own options (the runner owns `--listen`, `--log-format`, `--help`). */
  readonly options: Readonly<Record<string, PluginOption>>;
  /**
   * Builds the factory to serve. Throw (or reject) with a clear message for
   * bad option values: the runner prints it and exits non-zero.
   */
  makeFactory(
    options: PluginOptionValues,
    context: PluginContext,
  ): IProtocolFactory | PromiseLike<IProtocolFactory>;
  /**
   * Builds the datagram protocol to serve on a UDP endpoint (`--listen udp:PORT`).
   * Optional: a plugin without it serves stream endpoints only, and the runner
   * refuses a `udp:` endpoint for it with a message naming the plugin. Called
   * once per UDP endpoint, since a datagram protocol serves one port. Throw
   * (or reject) with a clear message for bad option values, as `makeFactory`.
   */
  makeDatagramProtocol?(
    options: PluginOptionValues,
    context: PluginContext,
  ): IDatagramProtocol | PromiseLike<IDatagramProtocol>;
}
