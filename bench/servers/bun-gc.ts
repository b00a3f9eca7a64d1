/**
 * Gives a Bun server the `gc()` global that control.ts's `stats` command
 * calls (Node has it with `--expose-gc`; Bun has `Bun.gc(true)` instead), so
 * the memory benchmark measures Bun servers after a forced, full collection.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */

interface BunGlobal {
  gc(force: boolean): void;
}

/** Installs `globalThis.gc` as a synchronous full collection; does nothing outside Bun. */
export function exposeBunGc(): void {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (bun === undefined) return;
  (globalThis as { gc?: () => void }).gc = () => {
    bun.gc(true);
  };
}
