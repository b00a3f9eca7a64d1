// Protocols and helpers shared by the SimulatedReactor tests.
import type { IAddress } from '../../src/address.js';
import { Deferred } from '../../src/deferred.js';
import { ClientFactory, Factory } from '../../src/factory.js';
import type { Failure } from '../../src/failure.js';
import type { IConnector, IProtocol, ITCPTransport } from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';

/** Writes back what it receives. */
export class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** Records everything that happens to it; `lost` fires with the close reason. */
export class Recorder extends Protocol<Factory, ITCPTransport> {
  chunks: Buffer[] = [];
  made = false;
  reasons: Failure[] = [];
  /** Wrapped: a Deferred given a Failure would fail with it. */
  readonly lost = new Deferred<{ reason: Failure }>();
  override connectionMade(): void {
    this.made = true;
  }
  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
  }
  override connectionLost(reason: Failure): void {
    this.reasons.push(reason);
    this.lost.callback({ reason });
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** A server factory that keeps every protocol it built. */
export class Keeper<P extends IProtocol> extends Factory {
  readonly built: P[] = [];
  readonly #make: () => P;
  constructor(make: () => P) {
    super();
    this.#make = make;
  }
  override buildProtocol(): P {
    const protocol = this.#make();
    this.built.push(protocol);
    return protocol;
  }
}

/** A client factory that records its callbacks; `failed`/`lostConnection` fire with the reason. */
export class ClientRecorder<P extends IProtocol> extends ClientFactory {
  readonly built: P[] = [];
  readonly addresses: IAddress[] = [];
  /** Wrapped: a Deferred given a Failure would fail with it. */
  readonly failed = new Deferred<{ reason: Failure }>();
  readonly lostConnection = new Deferred<{ reason: Failure }>();
  started = 0;
  readonly #make: () => P;
  constructor(make: () => P) {
    super();
    this.#make = make;
  }
  override buildProtocol(addr: IAddress): P {
    this.addresses.push(addr);
    const protocol = this.#make();
    this.built.push(protocol);
    return protocol;
  }
  override startedConnecting(): void {
    this.started++;
  }
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.failed.callback({ reason });
  }
  override clientConnectionLost(_connector: IConnector, reason: Failure): void {
    this.lostConnection.callback({ reason });
  }
}
