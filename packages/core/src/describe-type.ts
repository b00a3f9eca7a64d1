/**
 * `describeType`: how Torsion names a wrong value's type in its error
 * messages. Exported so that reactors and protocol packages built on core
 * word the same mistake the same way.
 *
 * Tests: test/write-data.test.ts
 * @module
 */

/**
 * Names a value's type for an error message: `number`, `null`, `Array`,
 * `ArrayBuffer`, a class name, or `object` for an object without one.
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
}
