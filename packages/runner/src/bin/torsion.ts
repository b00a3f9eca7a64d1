#!/usr/bin/env node
/**
 * The `torsion` command. See runServices() in ../run.ts.
 *
 * Tests: test/torsion.integration.test.ts, test/demo.integration.test.ts
 * @module
 */
import { runServices } from '../run.js';

const code = await runServices(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
process.exitCode = code;
// Everything the services opened is closed by now; do not let a stray handle
// (a user plugin's timer, say) keep a stopped server from exiting.
setTimeout(() => process.exit(code), 2000).unref();
