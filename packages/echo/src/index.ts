/**
 * `@torsion/echo`: the Echo protocol (RFC 862) as Twisted's
 * `twisted.protocols.wire.Echo`, a line-echo variant, the UDP echo
 * (`DatagramEcho`), and a one-call client.
 * The runner plugin is at `@torsion/echo/plugin`.
 * @module
 */
export * from './echo.js';
export * from './echo-client.js';
export * from './line-echo.js';
export * from './udp-echo.js';
