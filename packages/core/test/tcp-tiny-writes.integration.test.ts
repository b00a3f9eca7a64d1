// Output that waits costs about its bytes, however it was written: tiny writes
// to a peer that never reads are coalesced instead of kept as one object each
// (issue #9: 32,768 two-byte writes once cost ~5 MiB per connection). The
// measurement runs in a child with --expose-gc, so it is taken after forced
// collections; loopback only, bounded.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./support/tiny-writes-child.ts', import.meta.url));

describe('TCPTransport output memory (loopback)', () => {
  it('holds 32,768 two-byte writes to a peer that never reads in about their 64 KiB', async function () {
    this.timeout(60_000);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', child],
        { timeout: 50_000 },
        (err, stdout, stderr) => {
          if (err !== null) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
    const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      perConnection: number;
      backedUp: boolean;
      grew: number[];
    };
    expect(result.backedUp, 'the 16 MiB write did not back the output up').to.equal(true);
    // Every byte is counted against the high-water mark.
    expect(result.grew).to.deep.equal(new Array<number>(result.grew.length).fill(65_536));
    // 64 KiB of bytes, plus chunk headers; one object per write would be megabytes.
    expect(result.perConnection).to.be.below(160 * 1024);
  });
});
