// BasePort on its own, with a scripted port whose bind and close report when
// the test says: a port binding synchronously (Bun), later (Node), or never;
// the waiters, doStart/doStop, and the log line of a failure nobody waited for.
import { expect } from 'chai';
import { IPv4Address } from '../../src/address.js';
import { CannotListenError, ConnectionDone } from '../../src/errors.js';
import { Factory } from '../../src/factory.js';
import { Logger } from '../../src/log.js';
import { BasePort } from '../../src/reactor-kit/base-port.js';
import { OpenResources } from '../../src/reactor-kit/open-resources.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { StringTransport } from '../../src/testing/string-transport.js';
import type { IStreamTransport } from '../../src/interfaces.js';
import { Failure } from '../../src/failure.js';

const log = new Logger('test.base-port');

class CountingFactory extends Factory {
  starts = 0;
  stops = 0;
  override startFactory(): void {
    this.starts++;
  }
  override stopFactory(): void {
    this.stops++;
  }
}

/** A port whose bind and close report only when the test calls finishBind/finishClose. */
class ScriptedPort extends BasePort {
  closes = 0;
  constructor(
    resources: OpenResources,
    factory: Factory,
    readonly onBind: (port: ScriptedPort) => void = () => {},
  ) {
    super({
      resources,
      factory,
      port: 0,
      iface: '',
      host: new IPv4Address('TCP', '0.0.0.0', 0),
      log,
    });
  }
  protected bind(): void {
    this.onBind(this);
  }
  protected close(): void {
    this.closes++;
  }
  finishBind(port = 4321): void {
    this.bound(new IPv4Address('TCP', '127.0.0.1', port));
  }
  failBind(err: unknown): void {
    this.bindFailed(err);
  }
  finishClose(): void {
    this.closed();
  }
  get serving(): boolean {
    return this.accepting;
  }
  accept(transport: IStreamTransport): void {
    this.addConnection(transport);
  }
}

const turn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

describe('BasePort', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = LogCapture.start();
  });
  afterEach(() => {
    logs.stop();
  });

  it('fires whenListening and starts the factory once a later bind succeeds', () => {
    const resources = new OpenResources();
    const factory = new CountingFactory();
    const port = new ScriptedPort(resources, factory);
    port.startListening();
    let fired: unknown = null;
    port.whenListening().addCallback((p) => (fired = p));
    expect(fired).to.equal(null);
    expect(resources.ports.has(port)).to.equal(true);
    port.finishBind();
    expect(fired).to.equal(port);
    expect(factory.starts).to.equal(1);
    expect(port.serving).to.equal(true);
    expect(port.getHost().port).to.equal(4321);
  });

  it('stops: closes once, stops the factory and fires every waiter when closed', () => {
    const resources = new OpenResources();
    const factory = new CountingFactory();
    const port = new ScriptedPort(resources, factory, (p) => {
      p.finishBind();
    });
    port.startListening();
    let stopped = 0;
    port.stopListening().addCallback(() => stopped++);
    port.stopListening().addCallback(() => stopped++);
    expect(port.closes).to.equal(1);
    expect(port.serving).to.equal(false);
    expect(stopped).to.equal(0);
    port.finishClose();
    expect(stopped).to.equal(2);
    expect(factory.stops).to.equal(1);
    expect(resources.ports.size).to.equal(0);
  });

  it('fails whenListening, unlogged, when stopListening came before the bind completed', () => {
    const resources = new OpenResources();
    const factory = new CountingFactory();
    const port = new ScriptedPort(resources, factory);
    port.startListening();
    let failure: unknown = null;
    port.whenListening().addErrback((f) => (failure = f.value));
    let stopped = false;
    port.stopListening().addCallback(() => (stopped = true));
    port.finishBind();
    expect(failure).to.be.instanceOf(CannotListenError);
    expect(port.closes).to.equal(1);
    port.finishClose();
    expect(stopped).to.equal(true);
    expect(factory.starts).to.equal(0);
    expect(factory.stops).to.equal(0);
    expect(logs.failures()).to.have.length(0);
  });

  it('logs a synchronous bind failure a turn later only if nobody asked whenListening', async () => {
    const resources = new OpenResources();
    const asked = new ScriptedPort(resources, new CountingFactory(), () => {
      throw Object.assign(new Error('in use'), { code: 'EADDRINUSE' });
    });
    asked.startListening();
    const unasked = new ScriptedPort(resources, new CountingFactory(), (p) => {
      p.failBind(new Error('in use'));
    });
    unasked.startListening();
    let cause: unknown = null;
    asked.whenListening().addErrback((f) => (cause = f.value.cause));
    expect(cause).to.have.property('code', 'EADDRINUSE');
    expect(logs.failures()).to.have.length(0);
    await turn();
    expect(logs.failures()).to.have.length(1);
    expect(logs.failures()[0]!.check(CannotListenError)).to.equal(CannotListenError);
    expect(resources.ports.size).to.equal(0);
  });

  it('logs a later bind failure at once when nobody is waiting', () => {
    const port = new ScriptedPort(new OpenResources(), new CountingFactory());
    port.startListening();
    port.failBind(new Error('no'));
    expect(logs.failures()).to.have.length(1);
    let stopped = false;
    port.stopListening().addCallback(() => (stopped = true));
    expect(stopped).to.equal(true);
  });

  it('lists an accepted connection once, in the port; the open resources count it and find it through the port, also after stopListening', () => {
    const resources = new OpenResources();
    const port = new ScriptedPort(resources, new CountingFactory());
    port.startListening();
    port.finishBind();
    const first = new StringTransport();
    const second = new StringTransport();
    port.accept(first);
    port.accept(second);
    expect(resources.transports.size).to.equal(0);
    expect(resources.connectionCount).to.equal(2);
    expect([...resources.connections()]).to.deep.equal([first, second]);
    void port.stopListening();
    port.finishClose();
    expect(resources.ports.size).to.equal(0);
    expect(resources.empty).to.equal(false);
    expect([...resources.connections()]).to.deep.equal([first, second]);
    const done = new Failure(new ConnectionDone());
    port.transportClosed(first, done);
    port.transportClosed(first, done); // a second report of the same close changes nothing
    expect(resources.connectionCount).to.equal(1);
    let emptied = false;
    resources.whenEmpty(() => (emptied = true));
    port.transportClosed(second, done);
    expect(emptied).to.equal(true);
    expect(resources.connectionCount).to.equal(0);
    expect([...resources.connections()]).to.deep.equal([]);
  });
});
