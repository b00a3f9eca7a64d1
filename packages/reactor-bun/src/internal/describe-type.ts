/**
 * Names a value's type for error messages, as core's transports do
 * (`number`, `null`, `Array`…), so the same mistake reads the same on every
 * reactor.
 *
 * Tests: test/transport.bun.test.ts
 * @module
 */

/** Names a value's type for an error message: `number`, `null`, `Array`, `ArrayBuffer`… */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
}
