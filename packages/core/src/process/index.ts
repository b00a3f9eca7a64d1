/**
 * Child processes: the process protocol base class, the reasons a child
 * ends with, and the getProcessOutput family.
 *
 * Tests: test/process/*.test.ts
 * @module
 */
export * from './process-address.js';
export * from './process-errors.js';
export * from './process-protocol.js';
