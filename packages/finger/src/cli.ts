/**
 * The `torsion-finger` command, as a function: parse the arguments, ask the
 * server, print the reply. The `bin` script only calls {@link runFingerCommand}.
 *
 * Tests: test/torsion-finger.integration.test.ts
 * @module
 */
import { parseArgs } from 'node:util';
import type { IReactorTCP, IReactorTime } from '@torsion/core';
import { finger } from './finger-client.js';
import { parseTarget } from './target.js';

/** The usage text printed by `--help` and after a usage error. */
export const USAGE = `Usage: torsion-finger [-l] [-t SECONDS] [user]@host[:port]

Asks a finger server (RFC 1288) about a user, or lists its users with @host.
  -l, --long             verbose reply (sends /W)
  -t, --timeout SECONDS  give up after SECONDS (default 30)
  -h, --help             show this help
The port defaults to 79. IPv6: user@[::1]:7979.
`;

/** Where the command writes, and what it connects with. */
export interface FingerCommandIO {
  /** Standard output: the reply. */
  stdout: { write(text: string): unknown };
  /** Standard error: one-line errors and usage. */
  stderr: { write(text: string): unknown };
  /** The reactor to connect with. Default: `getReactor()`. */
  reactor?: IReactorTime & IReactorTCP;
}

/**
 * Runs `torsion-finger` with `args` (without the program name).
 * @returns the exit code: 0 when the reply was printed, 1 when the query
 *   failed (a one-line `torsion-finger: …` on stderr), 2 for a usage error.
 */
export async function runFingerCommand(
  args: readonly string[],
  io: FingerCommandIO,
): Promise<number> {
  const usageError = (message: string): number => {
    io.stderr.write(`torsion-finger: ${message}\n${USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        long: { type: 'boolean', short: 'l' },
        timeout: { type: 'string', short: 't' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (parsed.values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [argument, ...extra] = parsed.positionals;
  if (argument === undefined) return usageError('missing [user]@host');
  if (extra.length > 0) return usageError(`unexpected argument "${extra.join(' ')}"`);
  let timeout = 30;
  if (parsed.values.timeout !== undefined) {
    timeout = Number(parsed.values.timeout);
    if (!(timeout > 0) || !Number.isFinite(timeout)) {
      return usageError(`bad timeout "${parsed.values.timeout}"`);
    }
  }
  let target;
  try {
    target = parseTarget(argument);
  } catch (err) {
    return usageError((err as Error).message);
  }
  try {
    const reply = await finger(target.query, {
      host: target.host,
      port: target.port,
      verbose: parsed.values.long === true,
      timeout,
      ...(io.reactor === undefined ? {} : { reactor: io.reactor }),
    });
    io.stdout.write(reply);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Torsion's connection errors already name the address.
    io.stderr.write(`torsion-finger: ${message.split('\n')[0] ?? ''}\n`);
    return 1;
  }
}
