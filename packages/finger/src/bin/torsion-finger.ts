#!/usr/bin/env node
/**
 * `torsion-finger [-l] [user]@host[:port]`: the classic finger client.
 *
 * Tests: test/torsion-finger.integration.test.ts
 * @module
 */
import { runFingerCommand } from '../cli.js';

process.exitCode = await runFingerCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
