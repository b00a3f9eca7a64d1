// Issue #9, item 5: with the process at its descriptor limit, BunReactor's
// server sat at 100% CPU (Bun's listener retries a failed accept() forever)
// and the clients beyond the limit got neither an answer nor a refusal. The
// server runs as a child process under `ulimit -n` (a process cannot lower
// its own limit from Bun); the clients are this process's, on loopback.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./support/descriptor-server.ts', import.meta.url));
/** The server's descriptor limit: about 55 connections once Bun has its own. */
const LIMIT = 64;
/** Clients at once: well past what the limit lets the server hold. */
const CLIENTS = 100;
/** Seconds within which every client must be answered, closed or refused. */
const SETTLE_SECONDS = 5;
/** A spinning server uses a whole core; an idle one next to nothing. */
const MAX_IDLE_CPU = 0.3;

type Outcome = 'answered' | 'closed' | 'refused' | 'hung';

/** One loopback client: sends a line, and records what became of it. */
class Client {
  readonly socket: Socket;
  readonly outcome: Promise<Outcome>;

  constructor(port: number, seconds: number) {
    this.socket = connect(port, '127.0.0.1');
    this.outcome = new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        resolve('hung');
      }, seconds * 1000);
      const settle = (outcome: Outcome): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.socket.on('connect', () => this.socket.write('ping\n'));
      this.socket.on('data', () => {
        settle('answered');
      });
      this.socket.on('error', (err: NodeJS.ErrnoException) => {
        settle(err.code === 'ECONNREFUSED' ? 'refused' : 'closed');
      });
      this.socket.on('close', () => {
        settle('closed');
      });
    });
  }
}

/** The server process and what it printed. */
class ServerProcess {
  readonly child: Bun.Subprocess<'pipe', 'pipe', 'pipe'>;
  port = 0;
  #out = '';
  #err = '';

  constructor() {
    // `exec`: the pid is the server's own, for /proc/<pid>/stat.
    this.child = Bun.spawn(
      ['bash', '-c', `ulimit -n ${String(LIMIT)} && exec "$0" "$@"`, process.execPath, SERVER],
      { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' },
    );
    void this.#drain(this.child.stdout, (text) => (this.#out += text));
    void this.#drain(this.child.stderr, (text) => (this.#err += text));
  }

  /** Resolves with the first new stdout line matching `pattern`, within 10 s. */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    for (let i = 0; i < 500; i++) {
      const match = pattern.exec(this.#out);
      if (match !== null) {
        this.#out = this.#out.slice(match.index + match[0].length);
        return match;
      }
      if (this.child.exitCode !== null) break;
      await Bun.sleep(20);
    }
    throw new Error(`server did not print ${String(pattern)}; stderr:\n${this.#err}`);
  }

  async start(): Promise<void> {
    this.port = Number((await this.waitFor(/listening (\d+)\n/))[1]);
  }

  command(line: string): void {
    void this.child.stdin.write(`${line}\n`);
    void this.child.stdin.flush();
  }

  /** What the server logged so far. */
  get stderr(): string {
    return this.#err;
  }

  /** The server's CPU time in seconds (user + system), from /proc. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${String(this.child.pid)}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** Share of one core the server used over the next `seconds`. */
  async cpuOver(seconds: number): Promise<number> {
    const before = this.cpuSeconds();
    const start = performance.now();
    await Bun.sleep(seconds * 1000);
    return (this.cpuSeconds() - before) / ((performance.now() - start) / 1000);
  }

  async stop(): Promise<void> {
    void this.child.stdin.end();
    const exited = await Promise.race([this.child.exited, Bun.sleep(3000).then(() => null)]);
    if (exited === null) this.child.kill('SIGKILL');
  }

  async #drain(stream: ReadableStream<Uint8Array>, append: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
  }
}

const CLOCK_TICKS = ((): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(out.stdout);
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
})();

function tally(outcomes: Outcome[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { answered: 0, closed: 0, refused: 0, hung: 0 };
  for (const outcome of outcomes) counts[outcome]++;
  return counts;
}

/** Connects until one client is answered; refusals are retried, at most `tries` times. */
async function servedWithin(port: number, tries: number): Promise<Outcome[]> {
  const seen: Outcome[] = [];
  for (let i = 0; i < tries; i++) {
    const client = new Client(port, 2);
    const outcome = await client.outcome;
    client.socket.destroy();
    seen.push(outcome);
    if (outcome === 'answered') return seen;
    await Bun.sleep(100);
  }
  return seen;
}

function shortageWarnings(stderr: string): number {
  return stderr.split('\n').filter((line) => line.includes('Out of file descriptors')).length;
}

describe('BunReactor out of file descriptors (issue #9, item 5)', function () {
  this.timeout(40_000);
  let server: ServerProcess | null = null;
  const clients: Client[] = [];

  before(function () {
    // /proc for the CPU figures, bash for ulimit.
    if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) this.skip();
  });

  beforeEach(async () => {
    server = new ServerProcess();
    await server.start();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await server?.stop();
    server = null;
  });

  it('closes the connections it has no descriptor for at once, idles, and serves again once some close', async () => {
    const s = server!;
    for (let i = 0; i < CLIENTS; i++) clients.push(new Client(s.port, SETTLE_SECONDS));
    const counts = tally(await Promise.all(clients.map((c) => c.outcome)));
    expect(counts.hung, JSON.stringify(counts)).to.equal(0);
    expect(counts.answered, JSON.stringify(counts)).to.be.within(LIMIT / 2, LIMIT);
    expect(counts.closed + counts.refused, JSON.stringify(counts)).to.equal(
      CLIENTS - counts.answered,
    );
    // Still at the limit: every answered client holds its connection.
    expect(await s.cpuOver(1)).to.be.below(MAX_IDLE_CPU);

    for (const client of clients.splice(0)) client.socket.destroy();
    expect(await servedWithin(s.port, 20)).to.include('answered');
    expect(await s.cpuOver(0.5)).to.be.below(MAX_IDLE_CPU);
    expect(shortageWarnings(s.stderr), s.stderr).to.equal(1);
  });

  it('stops listening while the program holds every descriptor, then listens again once it frees them', async () => {
    const s = server!;
    // A connection made before the shortage keeps working through it.
    const early = new Client(s.port, SETTLE_SECONDS);
    clients.push(early);
    expect(await early.outcome).to.equal('answered');

    s.command('hold');
    await s.waitFor(/holding \d+\n/);
    const late = Array.from({ length: 20 }, () => new Client(s.port, SETTLE_SECONDS));
    clients.push(...late);
    const counts = tally(await Promise.all(late.map((c) => c.outcome)));
    expect(counts, JSON.stringify(counts)).to.include({ hung: 0, answered: 0 });
    expect(await s.cpuOver(1)).to.be.below(MAX_IDLE_CPU);

    const echoed = new Promise<string>((resolve) => {
      early.socket.once('data', (data: Buffer) => {
        resolve(data.toString());
      });
    });
    early.socket.write('still here\n');
    expect(await echoed).to.equal('still here\n');

    s.command('release');
    await s.waitFor(/released\n/);
    expect(await servedWithin(s.port, 20)).to.include('answered');
    expect(await s.cpuOver(0.5)).to.be.below(MAX_IDLE_CPU);
    expect(shortageWarnings(s.stderr), s.stderr).to.equal(1);
  });
});
