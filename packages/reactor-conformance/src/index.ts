/**
 * `@torsion/reactor-conformance`: the reactor conformance suite. One set of mocha tests
 * that every Torsion reactor must pass, whatever its I/O and its clock.
 * @module
 */
export { describeReactorConformance } from './describe-reactor-conformance.js';
export { REACTOR_CAPABILITIES } from './options.js';
export type {
  ConformanceOptions,
  ProcessBehaviour,
  ProcessCommands,
  ReactorCapability,
  UNIXFileHooks,
} from './options.js';
