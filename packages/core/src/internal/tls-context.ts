/**
 * Node's side of {@link ServerTLSOptions} and {@link ClientTLSOptions}: the
 * `tls.TLSSocket` options a reactor on `node:tls` (NodeReactor, and the TLS
 * engine every other transport uses for `startTLS`) creates its sockets
 * with. Secure contexts are built once per options object and shared by every
 * connection made with it (a context holds the parsed key and certificates:
 * building one per connection costs a millisecond and a few KiB).
 *
 * Tests: test/tls*.test.ts
 * @module
 */
import {
  checkServerIdentity,
  createSecureContext,
  type ConnectionOptions,
  type PeerCertificate,
  type SecureContext,
  type TLSSocketOptions,
} from 'node:tls';
import type { CertifiedKey, ClientTLSOptions, ServerTLSOptions } from '../tls-options.js';

const contexts = new WeakMap<object, SecureContext>();

function contextFor(
  owner: object,
  options: ServerTLSOptions | ClientTLSOptions,
  identity: CertifiedKey | null,
): SecureContext {
  let context = contexts.get(owner);
  if (context === undefined) {
    context = createSecureContext({
      minVersion: options.minVersion,
      ...(identity === null ? {} : { key: identity.key, cert: identity.cert }),
      ...(options.trustRoot === null ? {} : { ca: options.trustRoot }),
    });
    contexts.set(owner, context);
  }
  return context;
}

/** The secure context for a server certificate (the main one or an SNI one). */
function serverContext(options: ServerTLSOptions, identity: CertifiedKey): SecureContext {
  return contextFor(identity, options, identity);
}

/** Options for `new TLSSocket(socket, …)` on the server side. */
export function serverSocketOptions(options: ServerTLSOptions): TLSSocketOptions {
  const socketOptions: TLSSocketOptions = {
    isServer: true,
    secureContext: serverContext(options, options.identity),
    requestCert: options.clientCertificates !== 'none',
    rejectUnauthorized: options.clientCertificates === 'require',
  };
  if (options.alpnProtocols.length > 0) socketOptions.ALPNProtocols = [...options.alpnProtocols];
  if (options.sni.size > 0) {
    socketOptions.SNICallback = (servername, callback) => {
      callback(null, serverContext(options, options.certifiedKeyFor(servername)));
    };
  }
  return socketOptions;
}

/** Options for `tls.connect({ socket, … })` on the client side. */
export function clientSocketOptions(options: ClientTLSOptions): ConnectionOptions {
  const connectOptions: ConnectionOptions = {
    secureContext: contextFor(options, options, options.clientCertificate),
    rejectUnauthorized: !options.insecureSkipVerify,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      options.insecureSkipVerify ? undefined : checkServerIdentity(options.hostname, cert),
  };
  const servername = options.servername;
  if (servername !== undefined) connectOptions.servername = servername;
  if (options.alpnProtocols.length > 0) connectOptions.ALPNProtocols = [...options.alpnProtocols];
  return connectOptions;
}
