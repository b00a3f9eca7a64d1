/**
 * `BunProcessTransport`: a child process on the Bun reactor. Bun implements
 * `node:child_process`, and hands each pipe over as a Node stream (a
 * `Writable` for the child's stdin, a `Readable` for its output, a `Socket`
 * for descriptors above 2); core's child-process transport already makes
 * each of them a one-way StreamTransport, on Node too, so this is that
 * transport with Bun's logger and nothing else: the two runtimes' children
 * share every line of their behaviour. Why not `Bun.spawn`: see
 * docs/reactor-bun.md.
 *
 * Tests: test/process.bun.test.ts, test/types/process.test-d.ts, and the process section of the
 * conformance suite (test/conformance.bun.test.ts)
 * @module
 */
import { Logger, type IProcessProtocol } from '@torsion/core';
import { NodeProcessTransport, type SpawnSettings } from '@torsion/core/reactor-kit';

const log = new Logger('torsion.bun.process');

/** A child process on Bun; user code sees it as `IProcessTransport`. */
export class BunProcessTransport extends NodeProcessTransport {
  /**
   * Starts the child and connects `protocol` to it (before returning).
   * @param highWaterMark - the write high-water mark of its input pipes.
   */
  constructor(protocol: IProcessProtocol, settings: SpawnSettings, highWaterMark: number) {
    super(protocol, settings, highWaterMark, log);
  }
}
