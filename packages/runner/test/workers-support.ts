// Helpers for the --workers tests: a free loopback port, the real `torsion`
// bin started as a process with its stderr watched, one echo exchange, and
// clients that keep echoing.
import { errorCode } from '@torsion/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The committed bin, as a user runs it. */
export const torsionBin = join(repoRoot, 'packages/runner/bin/torsion.js');
export const fixtures = join(repoRoot, 'packages/runner/test/fixtures');

/**
 * A loopback port that was free a moment ago (--workers refuses port 0). Another
 * process could take it before torsion does; the tests would then fail to start, loudly.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A running `torsion` process. */
export interface TorsionProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr(): string;
  /** Resolves once stderr (from the start) matches `pattern` `count` times; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number, count?: number): Promise<void>;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the process group's primary if it is still running (cleanup). */
  kill(): void;
}

export function startTorsion(
  args: readonly string[],
  options: { detached?: boolean } = {},
): TorsionProcess {
  const child = spawn(process.execPath, [torsionBin, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached === true,
  });
  let text = '';
  const listeners = new Set<() => void>();
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolveExit) => {
      child.once('exit', (code, signal) => {
        resolveExit({ code, signal });
      });
    },
  );
  let running = true;
  void exited.then(() => {
    running = false;
  });
  return {
    child,
    pid: child.pid ?? -1,
    stderr: () => text,
    exited,
    kill: () => {
      if (!running) return;
      // A detached one leads its own process group: take its workers down with it.
      if (options.detached === true && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    },
    waitFor: (pattern, timeoutMs = 15_000, count = 1) =>
      new Promise<void>((resolveWait, reject) => {
        const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
        const global = new RegExp(pattern.source, flags);
        const check = (): void => {
          if ([...text.matchAll(global)].length >= count) {
            cleanup();
            resolveWait();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`no ${String(pattern)} (x${count}) within ${timeoutMs} ms; stderr:\n${text}`),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
  };
}

/** One echo exchange: connect, send `payload`, read as many bytes back, close. Rejects with the socket error. */
export function echoOnce(port: number, payload: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise<Buffer>((resolveEcho, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(payload);
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`no echo within ${timeoutMs} ms`));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      resolveEcho(Buffer.concat(chunks));
    });
  });
}

/** What {@link keepEchoing} saw. */
export interface EchoTraffic {
  /** Connections opened. */
  started: number;
  /** Echoes that came back whole. */
  exchanges: number;
  /** Echoes whose bytes differ from what was sent. */
  mismatches: number;
  /** The first few of them: bytes sent and bytes echoed. */
  mismatchSizes: { sent: number; echoed: number }[];
  /** Failed connections (refused, reset, timed out), by error code. */
  errors: Record<string, number>;
}

/**
 * Keeps `clients` clients each opening a new connection every few
 * milliseconds, sending 1 to 4096 random bytes and reading the echo, until
 * `stop()` or `maxConnections` in all; `done` resolves with what they saw.
 */
export function keepEchoing(
  port: number,
  clients: number,
  maxConnections: number,
): { stop(): void; done: Promise<EchoTraffic> } {
  const traffic: EchoTraffic = {
    started: 0,
    exchanges: 0,
    mismatches: 0,
    mismatchSizes: [],
    errors: {},
  };
  let stopped = false;
  const client = async (): Promise<void> => {
    while (!stopped && traffic.started < maxConnections) {
      traffic.started++;
      const payload = randomBytes(1 + Math.floor(Math.random() * 4096));
      try {
        const echoed = await echoOnce(port, payload);
        traffic.exchanges++;
        if (!echoed.equals(payload)) {
          traffic.mismatches++;
          if (traffic.mismatchSizes.length < 10) {
            traffic.mismatchSizes.push({ sent: payload.length, echoed: echoed.length });
          }
        }
      } catch (err) {
        const code = errorCode(err) ?? String(err);
        traffic.errors[code] = (traffic.errors[code] ?? 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const running = Array.from({ length: clients }, client);
  return {
    stop: () => {
      stopped = true;
    },
    done: Promise.all(running).then(() => traffic),
  };
}
