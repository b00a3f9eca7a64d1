/**
 * `echo()`: one round trip to an echo server. Sends the data, half-closes so
 * the server knows it has everything, and collects what comes back until the
 * server closes.
 *
 * Tests: test/echo-client.integration.test.ts
 * @module
 */
import {
  describeType,
  ClientFactory,
  ConnectionDone,
  Deferred,
  DeferredTimeoutError,
  Failure,
  Protocol,
  getReactor,
} from '@torsion/core';
import type {
  IAddress,
  IConnector,
  IDelayedCall,
  IHalfCloseableProtocol,
  IProtocol,
  IReactorTCP,
  IReactorTime,
  IStreamTransport,
  WriteData,
} from '@torsion/core';

/** Where and how {@link echo} connects. */
export interface EchoClientOptions {
  /** The echo server's host. */
  host: string;
  /** The echo server's port. */
  port: number;
  /** The reactor to connect with. Default: `getReactor()`. */
  reactor?: IReactorTCP & IReactorTime;
  /**
   * Seconds the whole exchange (connecting, sending, receiving the echo) may
   * take before it fails with DeferredTimeoutError. Default 30.
   */
  timeout?: number;
}

type Finish = (result: Buffer | Failure) => void;

/** Sends, half-closes, and collects until the server closes. */
class EchoClientProtocol extends Protocol implements IHalfCloseableProtocol {
  readonly #data: WriteData;
  readonly #finish: Finish;
  readonly #received: Buffer[] = [];

  constructor(data: WriteData, finish: Finish) {
    super();
    this.#data = data;
    this.#finish = finish;
  }

  override connectionMade(): void {
    const transport: Partial<IStreamTransport> = this.transport;
    this.transport.write(this.#data);
    // The FIN tells the server the request is complete; without half-close
    // support the server would not know when to stop, and the timeout decides.
    if (typeof transport.loseWriteConnection === 'function') transport.loseWriteConnection();
  }

  override dataReceived(data: Buffer): void {
    this.#received.push(data);
  }

  /** The server sent everything back and its FIN: close our side too. */
  readConnectionLost(): void {
    this.transport.loseConnection();
  }

  writeConnectionLost(): void {}

  override connectionLost(reason: Failure): void {
    if (reason.check(ConnectionDone) !== null) this.#finish(Buffer.concat(this.#received));
    else this.#finish(reason);
  }
}

class EchoClientFactory extends ClientFactory {
  readonly #data: WriteData;
  readonly #finish: Finish;

  constructor(data: WriteData, finish: Finish) {
    super();
    this.#data = data;
    this.#finish = finish;
  }

  override buildProtocol(addr: IAddress): IProtocol {
    void addr;
    const protocol = new EchoClientProtocol(this.#data, this.#finish);
    protocol.factory = this;
    return protocol;
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    void connector;
    this.#finish(reason);
  }
}

/**
 * Sends `data` to an echo server and fires with what came back.
 *
 * @example
 * ```ts
 * const reply = await echo('hello', { host: '127.0.0.1', port: 8007 });
 * reply.toString(); // 'hello'
 * ```
 *
 * @param data - the bytes to send (a string is sent as UTF-8).
 * @param options - see {@link EchoClientOptions}.
 * @returns a Deferred that fires with every byte the server sent back, once
 *   it closed the connection cleanly; or fails with ConnectionRefusedError (or
 *   another ConnectError), DeferredTimeoutError, or ConnectionLost if the
 *   connection broke. Cancelling it closes the connection.
 * @throws TypeError if `data` is neither a Uint8Array nor a string.
 * @throws RangeError if `timeout` is not a number of seconds > 0.
 */
export function echo(data: WriteData, options: EchoClientOptions): Deferred<Buffer> {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError(`echo() sends a Uint8Array or a string, not ${describeType(data)}`);
  }
  const timeout = options.timeout ?? 30;
  if (typeof timeout !== 'number' || !(timeout > 0)) {
    throw new RangeError(`timeout must be a number of seconds > 0, got ${String(timeout)}`);
  }
  const reactor = options.reactor ?? getReactor();
  const { host, port } = options;

  // An object, not a `let`: callbacks set it, and control-flow analysis cannot see that.
  const state = { settled: false };
  let connector: IConnector | null = null;
  let timer: IDelayedCall | null = null;

  const stop = (): void => {
    state.settled = true;
    if (timer?.active() === true) timer.cancel();
    if (connector !== null && connector.state !== 'disconnected') connector.disconnect();
  };
  const result = new Deferred<Buffer>(stop);
  const finish: Finish = (outcome) => {
    if (state.settled) return;
    stop();
    if (outcome instanceof Failure) result.errback(outcome);
    else result.callback(outcome);
  };

  timer = reactor.callLater(timeout, () => {
    finish(
      new Failure(
        new DeferredTimeoutError(
          `echo to ${host}:${String(port)} got no complete reply within ${String(timeout)} seconds`,
        ),
      ),
    );
  });
  connector = reactor.connectTCP(host, port, new EchoClientFactory(data, finish), { timeout });
  // A synchronous failure (a test double, say) may have settled already.
  if (state.settled && connector.state !== 'disconnected') connector.disconnect();
  return result;
}
