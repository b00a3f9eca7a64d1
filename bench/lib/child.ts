/**
 * A child process the runner talks to line by line (servers and the C
 * client), with bounded waits and a guaranteed kill, so a stuck benchmark
 * never outlives the runner.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

const live = new Set<LineProcess>();

/** Kills every child still running (used on exit and on Ctrl-C). */
export function killAll(): void {
  for (const child of live) child.kill();
}

/** A spawned process whose stdout is read as lines and whose stdin takes lines. */
export class LineProcess {
  readonly name: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #waiter: (() => void) | null = null;
  #exited: Promise<number | null>;
  #stderr = '';
  #done = false;

  /**
   * @param name - shown in error messages.
   * @param argv - the command and its arguments.
   * @param cwd - the working directory (default: the runner's).
   */
  constructor(name: string, argv: readonly string[], cwd?: string) {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error(`${name}: empty command`);
    this.name = name;
    this.#child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cwd === undefined ? {} : { cwd }),
    });
    live.add(this);
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      this.#lines.push(line);
      this.#wake();
    });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail only: enough to explain a failure, bounded in size.
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    // A child that exits early must not crash the runner with EPIPE.
    this.#child.stdin.on('error', () => {});
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        this.#stderr += `\n${err.message}`;
        this.#finish();
        resolve(null);
      });
      // 'close', not 'exit': it comes after stdout has been read to the end.
      this.#child.on('close', (code) => {
        this.#finish();
        resolve(code);
      });
    });
  }

  #finish(): void {
    this.#done = true;
    live.delete(this);
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  /** The operating-system process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** False once the process has exited (or failed to start). */
  get running(): boolean {
    return !this.#done;
  }

  /** The last few KiB the process wrote on stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * The next stdout line.
   * @throws Error if none arrives within `timeoutSeconds` or the process exits first.
   */
  async nextLine(timeoutSeconds: number): Promise<string> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#done) throw new Error(`${this.name} exited without answering.\n${this.#stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no answer within ${timeoutSeconds} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The next stdout line parsed as JSON. */
  async nextJson(timeoutSeconds: number): Promise<Record<string, unknown>> {
    const line = await this.nextLine(timeoutSeconds);
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${this.name}: expected JSON, got ${JSON.stringify(line)}`);
    }
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    if (!this.#done) this.#child.stdin.write(`${line}\n`);
  }

  /** Closes stdin (servers and the idle client take that as "finish"). */
  closeInput(): void {
    this.#child.stdin.end();
  }

  /** Resolves with the exit code once the process has exited (null if killed or failed). */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGKILL, if still running. */
  kill(): void {
    if (!this.#done) this.#child.kill('SIGKILL');
  }

  /** Asks politely (stdin EOF), waits up to `graceSeconds`, then kills. */
  async stop(graceSeconds = 5): Promise<void> {
    this.closeInput();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceSeconds * 1000);
    });
    await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    this.kill();
    await this.#exited;
  }
}
