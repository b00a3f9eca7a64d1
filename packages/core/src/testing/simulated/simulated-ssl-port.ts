/**
 * `SimulatedSSLPort`: what `listenSSL` returns on a {@link SimulatedReactor}.
 * A {@link SimulatedPort} whose connections run a real TLS handshake (the
 * TLS engine every transport uses for `startTLS`) across the simulated
 * network, in virtual time, before the factory is asked for a protocol. A
 * failed or timed-out handshake is logged on `torsion.tls` and costs only
 * that connection; the factory never hears of it.
 *
 * Tests: test/testing/simulated/simulated-tls.test.ts
 * @module
 */
import type { INETAddress } from '../../address.js';
import type { ISSLListeningPort } from '../../interfaces.js';
import { Logger } from '../../log.js';
import { checkTLSOptions, type ServerTLSOptions } from '../../tls-options.js';
import { SimulatedPort } from './simulated-port.js';
import type { SimulatedTransport } from './simulated-transport.js';

const tlsLog = new Logger('torsion.tls');

/** A TLS port on a simulated host (see the module comment). */
export class SimulatedSSLPort extends SimulatedPort implements ISSLListeningPort {
  #options: ServerTLSOptions | null = null;

  /** The options new connections are accepted with. */
  get tlsOptions(): ServerTLSOptions {
    if (this.#options === null) throw new Error('The TLS options were not set');
    return this.#options;
  }

  /**
   * Uses `options` for connections accepted from now on; connections already
   * open (or handshaking) keep theirs.
   * @throws TypeError if `options` were not made by `serverTLSOptions()`.
   */
  setTLSOptions(options: ServerTLSOptions): void {
    checkTLSOptions(options, 'server');
    this.#options = options;
  }

  /** Runs the handshake; the protocol is built and connected once it completed. */
  protected override connectionAccepted(
    server: SimulatedTransport,
    clientAddress: INETAddress,
  ): void {
    server._startTLS(this.tlsOptions, (error) => {
      if (error === null) {
        // A handshake that finishes after stopListening() connects nothing,
        // as on the real reactors: the port has stopped.
        if (this.accepting) super.connectionAccepted(server, clientAddress);
        else server.abortConnection();
        return;
      }
      tlsLog.info('TLS handshake failed; closing the connection', {
        peer: clientAddress.toString(),
        host: this.getHost().toString(),
        code: error.code,
        reason: error.message,
      });
    });
  }
}
