/**
 * `ProcessAddress`: what `getHost()` and `getPeer()` of a process transport
 * return. A pipe to a child has no network address (Twisted's
 * `_ProcessAddress` is empty too); it names the child by its pid, for logs.
 *
 * Tests: test/process/process-protocol.test.ts
 * @module
 */

/** The "address" of a child process's pipes. */
export class ProcessAddress {
  readonly type = 'PROCESS' as const;
  /** @param pid - the child's pid, or null when it never started. */
  constructor(readonly pid: number | null) {}

  toString(): string {
    return this.pid === null ? 'process(not started)' : `process(${String(this.pid)})`;
  }
}
