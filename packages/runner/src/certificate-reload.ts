/**
 * Certificate reload: on SIGHUP the runner reads every `ssl:` endpoint's
 * files again and gives the listening port the new options
 * (`ISSLListeningPort.setTLSOptions`), so a renewed certificate is served
 * without a restart. Connections already open keep the certificate they
 * were made with; new ones get the new one. A reload that fails (a file
 * missing, a key that does not match its certificate) is logged as an error
 * and that port keeps serving its previous certificate, so a half-finished
 * renewal never takes a server down.
 *
 * Tests: test/certificate-reload.test.ts, test/ssl.integration.test.ts
 * @module
 */
import {
  certificateProblem,
  formatServerDescription,
  type ISSLListeningPort,
  type Logger,
  type ServerTLSOptions,
  type SSLServerDescription,
} from '@torsion/core';

/** The signal that asks the runner to reload its certificates, as for most Unix daemons. */
export const RELOAD_SIGNAL = 'SIGHUP';

interface ServedCertificate {
  readonly plugin: string;
  readonly endpoint: SSLServerDescription;
  readonly port: ISSLListeningPort;
  options: ServerTLSOptions;
}

/** What one reload did. */
export interface ReloadResult {
  /** Ports now serving freshly read files. */
  readonly reloaded: number;
  /** Ports whose files could not be used, still serving their previous certificate. */
  readonly failed: number;
}

/** A short description of the certificate a port serves, for the log. */
export function describeCertificate(options: ServerTLSOptions): string {
  const certificate = options.identity.certificate;
  return `${certificate.subject.replaceAll('\n', ', ')}, valid until ${certificate.validTo}, SHA-256 ${certificate.fingerprint256}`;
}

/** The `ssl:` ports of one runner, and their reload. */
export class CertificateReloader {
  readonly #served: ServedCertificate[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** How many ports reload() covers. */
  get size(): number {
    return this.#served.length;
  }

  /** Includes `port`, listening on `endpoint` with `options`, in every later reload. */
  add(
    plugin: string,
    endpoint: SSLServerDescription,
    port: ISSLListeningPort,
    options: ServerTLSOptions,
  ): void {
    this.#served.push({ plugin, endpoint, port, options });
  }

  /**
   * Reads every port's files again and switches the port to them; a port
   * whose files cannot be used is logged at 'error' and keeps its options.
   */
  reload(): ReloadResult {
    let reloaded = 0;
    let failed = 0;
    for (const served of this.#served) {
      const where = formatServerDescription(served.endpoint);
      const fields = { plugin: served.plugin };
      let next: ServerTLSOptions;
      try {
        next = served.options.reload();
        served.port.setTLSOptions(next);
      } catch (err) {
        failed++;
        this.#log.error(
          `${served.plugin}: cannot reload the certificate of ${where}: ${certificateProblem(err)}; still serving the previous one (${describeCertificate(served.options)})`,
          fields,
        );
        continue;
      }
      served.options = next;
      reloaded++;
      this.#log.info(
        `${served.plugin}: reloaded the certificate of ${where}: ${describeCertificate(next)}`,
        fields,
      );
    }
    return { reloaded, failed };
  }

  /**
   * Reloads on {@link RELOAD_SIGNAL} until the returned function is called.
   * Installed only when there is something to reload, so that a runner
   * without `ssl:` endpoints keeps the default meaning of SIGHUP (exit when
   * the terminal goes away).
   */
  reloadOnSignal(): () => void {
    if (this.#served.length === 0) return () => {};
    const onSignal = (): void => {
      this.#log.info(`Received ${RELOAD_SIGNAL}, reloading certificates`);
      this.reload();
    };
    process.on(RELOAD_SIGNAL, onSignal);
    return () => {
      process.off(RELOAD_SIGNAL, onSignal);
    };
  }
}
