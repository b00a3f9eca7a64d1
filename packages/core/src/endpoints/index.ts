/**
 * Endpoints: where to listen and where to connect, as objects and as
 * strings (Twisted's `twisted.internet.endpoints`). See docs/endpoints.md.
 *
 * Tests: test/endpoints/endpoint-registry.test.ts
 * @module
 */
export * from './certificate-files-error.js';
export * from './client-strings.js';
export * from './connect-protocol.js';
export * from './connecting-cancelled-error.js';
export * from './endpoint-error.js';
export * from './endpoint-registry.js';
export * from './endpoint-types.js';
export * from './hostname-connect-error.js';
export * from './hostname-endpoint.js';
export * from './name-resolver.js';
export * from './server-strings.js';
export * from './ssl-client-endpoint.js';
export * from './ssl-server-endpoint.js';
export * from './strports.js';
export * from './systemd-endpoint.js';
export * from './tcp-client-endpoint.js';
export * from './tcp-server-endpoint.js';
export * from './udp-server-endpoint.js';
export * from './unix-endpoints.js';
