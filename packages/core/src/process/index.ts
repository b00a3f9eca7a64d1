/**
 * Child processes: the process protocol base class, the reasons a child
 * ends with, and the getProcessOutput family.
 *
 * Tests: test/process/*.test.ts
 * @module
 */
export * from './get-process-output.js';
export * from './process-address.js';
export * from './process-errors.js';
export * from './process-protocol.js';
