/**
 * The process-wide default reactor, for code that does not pass one around.
 * Every API that needs a reactor also takes one explicitly; this is only the
 * fallback. The slot lives on `globalThis` so that every copy of
 * `@torsion/core` loaded in a process agrees on it.
 *
 * Tests: test/default-reactor.test.ts
 * @module
 */
import { ReactorAlreadyInstalledError } from './errors.js';
import type { IReactor } from './interfaces.js';
import { NodeReactor } from './node-reactor.js';

const SLOT = Symbol.for('@torsion/core/default-reactor');

interface Slot {
  reactor: IReactor;
  /** How the reactor got there, for the error message. */
  origin: 'created' | 'installed';
}

function slot(): Slot | undefined {
  return (globalThis as unknown as Record<symbol, Slot | undefined>)[SLOT];
}

function setSlot(value: Slot): void {
  (globalThis as unknown as Record<symbol, Slot | undefined>)[SLOT] = value;
}

/**
 * The default reactor. The first call creates a {@link NodeReactor} unless
 * one was installed with {@link installReactor}; after that the default is fixed.
 */
export function getReactor(): IReactor {
  const current = slot();
  if (current !== undefined) return current.reactor;
  const reactor = new NodeReactor();
  setSlot({ reactor, origin: 'created' });
  return reactor;
}

/**
 * Makes `reactor` the default. Call it at start-up, before anything asks for
 * the default reactor.
 * @throws ReactorAlreadyInstalledError if a reactor was already installed, or
 *   the default was already created by {@link getReactor}.
 */
export function installReactor(reactor: IReactor): void {
  const current = slot();
  if (current !== undefined) {
    throw new ReactorAlreadyInstalledError(
      current.origin === 'installed'
        ? 'A reactor is already installed'
        : 'The default reactor is already in use: install a reactor before anything calls getReactor()',
    );
  }
  setSlot({ reactor, origin: 'installed' });
}
