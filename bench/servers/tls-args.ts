/**
 * The command line every TLS benchmark server takes: `PORT KEY_FILE
 * CERT_FILE`. The runner picks the port and writes the certificates (see
 * bench/lib/tls.ts), so the Node, Bun, Twisted and `torsion` command-line
 * servers all start the same way.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */

/** A TLS server's arguments. */
export interface TLSServerArgs {
  readonly port: number;
  readonly keyFile: string;
  readonly certFile: string;
}

/**
 * Parses `process.argv`; exits with status 2 and a usage line when they are wrong.
 * @param name - the server's name, for the usage line.
 */
export function tlsServerArgs(name: string): TLSServerArgs {
  const [port, keyFile, certFile] = process.argv.slice(2);
  const n = Number(port);
  if (
    !Number.isInteger(n) ||
    n <= 0 ||
    n > 65535 ||
    keyFile === undefined ||
    certFile === undefined
  ) {
    process.stderr.write(`usage: ${name} PORT KEY_FILE CERT_FILE\n`);
    process.exit(2);
  }
  return { port: n, keyFile, certFile };
}
