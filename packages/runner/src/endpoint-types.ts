/**
 * The endpoint types the runner serves beyond @torsion/core's own: importing
 * this module registers them, so `--listen haproxy:tcp:8007` works from the
 * `torsion` command (and is listed in "known: …" when an endpoint type is
 * misspelt) without a plugin that imports the package.
 *
 * - `haproxy:` — any stream endpoint behind a PROXY-protocol proxy
 *   (@torsion/haproxy; docs/proxy-protocol.md).
 *
 * Tests: test/endpoint-types.test.ts, test/haproxy-listen.integration.test.ts
 * @module
 */
import '@torsion/haproxy';
