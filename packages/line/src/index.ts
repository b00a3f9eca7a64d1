/**
 * `@torsion/line`: framing for Torsion protocols. Each framing is a pure
 * decoder (bytes in, frames out, no I/O) wrapped by a thin Protocol class:
 * lines (`LineReceiver`, `LineOnlyReceiver`), netstrings
 * (`NetstringReceiver`), length prefixes (`Int8/16/32StringReceiver`) and
 * the asynchat model (`AsyncChat`).
 * @module
 */
export * from './async-chat.js';
export * from './errors.js';
export * from './framing-receiver.js';
export * from './int-string-decoder.js';
export * from './int-string-receiver.js';
export * from './line-decoder.js';
export * from './line-only-receiver.js';
export * from './line-receiver.js';
export * from './netstring-decoder.js';
export * from './netstring-receiver.js';
export * from './producer-fifo.js';
export * from './terminator-decoder.js';
