// Benchmark: lines per second for 64-byte lines fed in 64 KiB chunks through
// LineReceiver and LineOnlyReceiver, against Node's readline over the same
// bytes in the same run. Run: `npx tsx bench/line-receiver.ts`.
// The last line of output is one JSON object for bench/run.ts.
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { ITransport } from '@torsion/core';
import { LineOnlyReceiver, LineReceiver } from '@torsion/line';

const LINE_BYTES = 64; // including "\r\n"
const CHUNK_BYTES = 64 * 1024;
const TOTAL_BYTES = 64 * 1024 * 1024;
const PASSES = 7;

function makeChunks(): { chunks: Buffer[]; lines: number } {
  const line = Buffer.from(`${'x'.repeat(LINE_BYTES - 2)}\r\n`);
  const all = Buffer.alloc(TOTAL_BYTES);
  for (let at = 0; at < TOTAL_BYTES; at += LINE_BYTES) line.copy(all, at);
  const chunks: Buffer[] = [];
  for (let at = 0; at < TOTAL_BYTES; at += CHUNK_BYTES)
    chunks.push(all.subarray(at, at + CHUNK_BYTES));
  return { chunks, lines: TOTAL_BYTES / LINE_BYTES };
}

// A transport that is never disconnecting and discards writes: the cost measured is the framing.
const transport: ITransport = {
  disconnecting: false,
  write: () => undefined,
  writeSequence: () => undefined,
  loseConnection: () => undefined,
  getHost: () =>
    ({ type: 'TCP', host: '127.0.0.1', port: 0 }) as unknown as ReturnType<ITransport['getHost']>,
  getPeer: () =>
    ({ type: 'TCP', host: '127.0.0.1', port: 0 }) as unknown as ReturnType<ITransport['getPeer']>,
};

class CountingLineReceiver extends LineReceiver {
  count = 0;
  override lineReceived(): void {
    this.count += 1;
  }
}

class CountingLineOnlyReceiver extends LineOnlyReceiver {
  count = 0;
  override lineReceived(): void {
    this.count += 1;
  }
}

function timeProtocol(
  make: () => { dataReceived(d: Buffer): void; count: number },
  chunks: Buffer[],
  lines: number,
): number {
  const proto = make();
  const start = process.hrtime.bigint();
  for (const chunk of chunks) proto.dataReceived(chunk);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (proto.count !== lines) throw new Error(`expected ${lines} lines, got ${proto.count}`);
  return lines / seconds;
}

async function timeReadline(chunks: Buffer[], lines: number): Promise<number> {
  let count = 0;
  const start = process.hrtime.bigint();
  const rl = createInterface({
    input: Readable.from(chunks, { objectMode: false }),
    crlfDelay: Infinity,
  });
  rl.on('line', () => {
    count += 1;
  });
  await new Promise<void>((resolve) => rl.once('close', resolve));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (count !== lines) throw new Error(`readline: expected ${lines} lines, got ${count}`);
  return lines / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { chunks, lines } = makeChunks();
  const samples: { LineReceiver: number[]; LineOnlyReceiver: number[]; readline: number[] } = {
    LineReceiver: [],
    LineOnlyReceiver: [],
    readline: [],
  };
  const makers = {
    LineReceiver: () => {
      const p = new CountingLineReceiver();
      p.makeConnection(transport);
      return p;
    },
    LineOnlyReceiver: () => {
      const p = new CountingLineOnlyReceiver();
      p.makeConnection(transport);
      return p;
    },
  };
  // One warm-up pass of each, then interleaved passes so drift affects all equally.
  timeProtocol(makers.LineReceiver, chunks, lines);
  timeProtocol(makers.LineOnlyReceiver, chunks, lines);
  await timeReadline(chunks, lines);
  for (let pass = 0; pass < PASSES; pass++) {
    samples.LineReceiver.push(timeProtocol(makers.LineReceiver, chunks, lines));
    samples.LineOnlyReceiver.push(timeProtocol(makers.LineOnlyReceiver, chunks, lines));
    samples.readline.push(await timeReadline(chunks, lines));
  }
  const baseline = median(samples.readline);
  console.log(
    `lines: ${lines} x ${LINE_BYTES} bytes in ${CHUNK_BYTES}-byte chunks, median of ${PASSES} passes`,
  );
  console.log(`  readline           ${(baseline / 1e6).toFixed(2)} M lines/s`);
  const results = (['LineReceiver', 'LineOnlyReceiver'] as const).map((name) => {
    const rate = median(samples[name]);
    console.log(
      `  ${name.padEnd(18)} ${(rate / 1e6).toFixed(2)} M lines/s  (${(rate / baseline).toFixed(2)}x readline)`,
    );
    return {
      name,
      lines_per_s: Math.round(rate),
      baseline_lines_per_s: Math.round(baseline),
      ratio: Number((rate / baseline).toFixed(3)),
    };
  });
  console.log(JSON.stringify({ bench: 'lines', results }));
}

await main();
