/**
 * `PipeAddress`: what `getHost()` and `getPeer()` report for a connection
 * over a pair of pipes rather than a socket, as Twisted's stdio transport
 * does. There is no peer name to report: the other end is whoever holds the
 * pipe's other side (a parent process, a shell pipeline, a terminal).
 *
 * Tests: test/stdio/standard-io.test.ts, test/types/stdio.test-d.ts
 * @module
 */
import { UNIXAddress } from '../address.js';

/**
 * The address of each end of a {@link StandardIO} connection.
 *
 * @remarks
 * It is an unnamed local endpoint, so it is a `UNIXAddress` whose `name` is
 * `null` (`family` and `type` are `'UNIX'`): code that narrows an
 * `IAddress` on `family` (connection limits, access logs, PROXY headers)
 * treats a stdio connection like an unnamed UNIX socket's, which is what a
 * pipe made by Node's `child_process` is on Linux and macOS. Tell it apart
 * with `address instanceof PipeAddress`. It prints as `<pipe>`.
 */
export class PipeAddress extends UNIXAddress {
  constructor() {
    super(null);
  }

  override toString(): string {
    return '<pipe>';
  }
}
