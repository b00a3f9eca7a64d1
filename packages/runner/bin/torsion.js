#!/usr/bin/env node
// The `torsion` command. This file is committed, not built, so that `npm ci` on a
// fresh clone links node_modules/.bin/torsion before anything is compiled (npm
// links a workspace's bin only if the file exists at install time). The
// command itself is src/bin/torsion.ts, compiled into dist/.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin/torsion.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(
    'torsion: the package is not built; run `npx tsc -b` in the repository first\n',
  );
  process.exit(1);
}
await import(built.href);
