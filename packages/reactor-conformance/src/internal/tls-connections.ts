/**
 * TLS connections for the TLS tests: a recording protocol that also records
 * the TLS callbacks and what the transport said in `connectionMade`, the
 * test certificates made into options, and `listenSSL` / `connectSSL` pairs
 * on the reactor under test, in the shape of {@link Harness.pair}.
 *
 * Tests: the TLS section of the suite (src/suites/tls.ts), run by
 * test/node-reactor.conformance.integration.test.ts and
 * test/simulated-reactor.conformance.test.ts
 * @module
 */
import { optionsForClientTLS, serverTLSOptions } from '@torsion/core';
import type {
  ClientTLSOptions,
  IHandshakeListener,
  IProtocolFactory,
  IReactor,
  IReactorSSL,
  ISSLListeningPort,
  ITLSReactor,
  ITLSStartingListener,
  ITLSTransport,
  LogEvent,
  ServerTLSOptions,
  TLSPeerCertificate,
} from '@torsion/core';
import {
  Eventual,
  HalfCloseRecordingProtocol,
  makeTestCertificates,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { TestCertificates } from '@torsion/core/testing';
import { LOOPBACK } from './harness.js';
import type { Harness, Pair } from './harness.js';

/** The name the test server certificate is valid for (with 127.0.0.1 and ::1). */
export const SERVER_NAME = 'localhost';

/** The throw-away certificates every TLS test uses (made once per process). */
export function certificates(): TestCertificates {
  return makeTestCertificates();
}

/** Server options with the `localhost` certificate; `extra` adds or overrides. */
export function serverOptions(
  extra: Parameters<typeof serverTLSOptions>[0] = {},
): ServerTLSOptions {
  const { server } = certificates();
  return serverTLSOptions({ key: server.key, cert: server.cert, ...extra });
}

/**
 * Client options that verify the server against the test CA, for `hostname`
 * (default `localhost`); `extra` adds or overrides.
 */
export function clientOptions(
  hostname = SERVER_NAME,
  extra: Parameters<typeof optionsForClientTLS>[1] = {},
): ClientTLSOptions {
  return optionsForClientTLS(hostname, { trustRoot: certificates().ca.cert, ...extra });
}

/** Whether the reactor has `listenSSL` (and so claims `IReactorSSL`). */
export function speaksTLS(reactor: IReactor): reactor is ITLSReactor {
  return typeof (reactor as Partial<IReactorSSL>).listenSSL === 'function';
}

/** The reactor under test as an `ITLSReactor`. @throws Error if it has no `listenSSL`. */
export function tlsReactor(h: Harness): ITLSReactor {
  const reactor = h.reactor;
  if (!speaksTLS(reactor)) throw new Error('the reactor under test has no listenSSL');
  return reactor;
}

/** A protocol's transport as the TLS transport every Torsion TCP transport is. */
export function tlsOf(protocol: RecordingProtocol): ITLSTransport {
  return protocol.transport as ITLSTransport;
}

/** What the transport reported when `connectionMade` ran. */
export interface SeenAtConnectionMade {
  readonly secure: boolean;
  readonly peerCertificate: TLSPeerCertificate | null;
  readonly tlsVersion: string | null;
}

/**
 * Records `handshakeCompleted` and `tlsStarting` in {@link RecordingProtocol.events}
 * next to the other callbacks, and what the transport said in `connectionMade`.
 */
export class TLSRecordingProtocol
  extends RecordingProtocol
  implements IHandshakeListener, ITLSStartingListener
{
  /** Settled by the first `handshakeCompleted`. */
  readonly handshakeDone = new Eventual<void>();
  /** Snapshot taken in `connectionMade`; null before. */
  seenAtConnectionMade: SeenAtConnectionMade | null = null;

  /** The transport, as a TLS transport. */
  get tls(): ITLSTransport {
    return tlsOf(this);
  }

  override connectionMade(): void {
    const tls = this.tls;
    this.seenAtConnectionMade = {
      secure: tls.secure,
      peerCertificate: tls.getPeerCertificate(),
      tlsVersion: tls.getTLSVersion(),
    };
    super.connectionMade();
  }

  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
    this.handshakeDone.callback();
  }

  tlsStarting(): void {
    this.events.push('tlsStarting');
  }
}

/** A {@link TLSRecordingProtocol} that writes back everything it receives. */
export class TLSEcho extends TLSRecordingProtocol {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** Listens with TLS on 127.0.0.1, port 0; resolves with the port once bound. */
export async function listenSSL(
  h: Harness,
  factory: IProtocolFactory,
  options: ServerTLSOptions,
): Promise<ISSLListeningPort> {
  const port = tlsReactor(h).listenSSL(0, factory, options, { interface: LOOPBACK });
  await port.whenListening();
  return port;
}

/**
 * Connects a recording client over TLS to `port` and resolves with its
 * protocol once connected (after the handshake).
 * @throws Error (rejects) if the attempt fails, with the reason's message.
 */
export async function connectSSL<C extends RecordingProtocol>(
  h: Harness,
  port: number,
  makeClient: () => C,
  options: ClientTLSOptions = clientOptions(),
): Promise<{ client: C; clientFactory: RecordingClientFactory<C> }> {
  const clientFactory = new RecordingClientFactory(makeClient);
  tlsReactor(h).connectSSL(LOOPBACK, port, clientFactory, options);
  const client = await Promise.race([
    clientFactory.firstBuilt,
    clientFactory.failed.then((reason) => {
      throw new Error(`connecting over TLS failed: ${reason.getErrorMessage()}`);
    }),
  ]);
  await client.made;
  return { client, clientFactory };
}

/** Server and client TLS options for {@link tlsPair}; the defaults verify `localhost`. */
export interface TLSPairOptions {
  readonly server?: ServerTLSOptions;
  readonly client?: ClientTLSOptions;
}

/** {@link Harness.pair} over TLS: `listenSSL` and `connectSSL` on the reactor under test. */
export async function tlsPair<S extends RecordingProtocol, C extends RecordingProtocol>(
  h: Harness,
  makeServer: () => S,
  makeClient: () => C,
  options: TLSPairOptions = {},
): Promise<Pair<S, C> & { listening: ISSLListeningPort }> {
  const serverFactory = new RecordingFactory(makeServer);
  const listening = await listenSSL(h, serverFactory, options.server ?? serverOptions());
  const port = listening.getHost().port;
  const clientFactory = new RecordingClientFactory(makeClient);
  const connector = tlsReactor(h).connectSSL(
    LOOPBACK,
    port,
    clientFactory,
    options.client ?? clientOptions(),
  );
  const client = await Promise.race([
    clientFactory.firstBuilt,
    clientFactory.failed.then((reason) => {
      throw new Error(`connecting to the TLS test server failed: ${reason.getErrorMessage()}`);
    }),
  ]);
  await client.made;
  const server = await serverFactory.nth(1);
  await server.made;
  return { server, client, serverFactory, clientFactory, connector, listening, port };
}

/** A half-closeable recorder that also records the TLS callbacks. */
export class TLSHalfCloseRecordingProtocol
  extends HalfCloseRecordingProtocol
  implements IHandshakeListener
{
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
  }
}

/**
 * Whether `event` names the TLS error `code`: in its message, as a field, or
 * as the code of the error a field carries (a `failure`, an `error`).
 */
export function eventMentions(event: LogEvent, code: string): boolean {
  if (event.message.includes(code)) return true;
  return Object.values(event.fields).some((value) => {
    if (value === code) return true;
    if (typeof value !== 'object' || value === null) return false;
    const direct = (value as { code?: unknown }).code;
    const wrapped = (value as { value?: { code?: unknown } }).value?.code;
    return direct === code || wrapped === code;
  });
}
