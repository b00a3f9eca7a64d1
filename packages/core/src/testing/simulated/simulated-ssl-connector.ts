/**
 * `SimulatedSSLConnector`: what `connectSSL` returns on a
 * {@link SimulatedReactor}. A {@link SimulatedConnector} whose attempt
 * includes a real TLS handshake (the TLS engine every transport uses for
 * `startTLS`), in virtual time: the factory builds and connects a protocol
 * only once the handshake completed, and a failed handshake reaches
 * `clientConnectionFailed` as a TLSError. The connector's `timeout` covers
 * the connection and the handshake together; the options' `handshakeTimeout`
 * applies too (TORSION_ERR_TLS_HANDSHAKE_TIMEOUT).
 *
 * Tests: test/testing/simulated/simulated-tls.test.ts
 * @module
 */
import type { ClientTLSOptions } from '../../tls-options.js';
import type { IClientFactory } from '../../interfaces.js';
import type { OpenResources } from '../../reactor-kit/open-resources.js';
import { SimulatedConnector, type SimulatedConnectorSettings } from './simulated-connector.js';
import type { SimulatedNetwork } from './simulated-network.js';
import type { SimulatedTransport } from './simulated-transport.js';

/** A TLS connector on a simulated host (see the module comment). */
export class SimulatedSSLConnector extends SimulatedConnector {
  /** The options each attempt's handshake uses. */
  readonly tlsOptions: ClientTLSOptions;
  /** The connection whose handshake is running, while it runs. */
  #handshaking: SimulatedTransport | null = null;

  /** @internal Built by the reactor. */
  constructor(
    network: SimulatedNetwork,
    open: OpenResources,
    factory: IClientFactory,
    settings: SimulatedConnectorSettings,
    tlsOptions: ClientTLSOptions,
  ) {
    super(network, open, factory, settings);
    this.tlsOptions = tlsOptions;
  }

  /** Runs the handshake; the attempt succeeds once it completed, or fails with its TLSError. */
  protected override connectionEstablished(transport: SimulatedTransport): void {
    this.#handshaking = transport;
    transport._startTLS(this.tlsOptions, (error) => {
      // The attempt was given up meanwhile (timeout, stopConnecting).
      if (this.#handshaking !== transport) return;
      this.#handshaking = null;
      if (error === null) this.attemptSucceeded(transport.getPeer(), () => transport);
      else this.attemptFailed(error);
    });
  }

  /** Also drops a connection whose handshake is still running. */
  protected override abandonAttempt(): void {
    const handshaking = this.#handshaking;
    this.#handshaking = null;
    handshaking?.abortConnection();
    super.abandonAttempt();
  }
}
