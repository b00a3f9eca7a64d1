/**
 * `@torsion/finger`: the finger protocol (RFC 1288). A server with pluggable
 * user databases, a client, and the pure query parser they share. The
 * `torsion` runner plugin is at `@torsion/finger/plugin`; the command is
 * `torsion-finger`.
 * @module
 */
export * from './errors.js';
export * from './finger-client.js';
export * from './finger-server.js';
export * from './json-file-user-database.js';
export * from './query.js';
export * from './reply.js';
export * from './target.js';
export * from './user-database.js';
