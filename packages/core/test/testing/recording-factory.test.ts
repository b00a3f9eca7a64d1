// Tests for src/testing/recording-factory.ts, recording-client-factory.ts and
// serve-on-loopback.ts, on a SimulatedReactor (virtual time, no sockets).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { IPv4Address } from '../../src/address.js';
import { CannotListenError, ConnectionDone, ConnectionRefusedError } from '../../src/errors.js';
import { EchoingProtocol } from '../../src/testing/echoing-protocol.js';
import { RecordingClientFactory } from '../../src/testing/recording-client-factory.js';
import { RecordingFactory } from '../../src/testing/recording-factory.js';
import { RecordingProtocol } from '../../src/testing/recording-protocol.js';
import { serveOnLoopback } from '../../src/testing/serve-on-loopback.js';
import { SimulatedReactor } from '../../src/testing/simulated/simulated-reactor.js';

describe('RecordingFactory', () => {
  it('keeps each protocol it built, with its address, and sets its factory', () => {
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const addr = new IPv4Address('TCP', '127.0.0.1', 5000);
    const p = factory.buildProtocol(addr);
    expect(factory.built).to.deep.equal([p]);
    expect(factory.addresses).to.deep.equal([addr]);
    expect(p.factory).to.equal(factory);
  });

  it('counts startFactory and stopFactory', () => {
    const factory = new RecordingFactory(() => new RecordingProtocol());
    factory.doStart();
    factory.doStart();
    factory.doStop();
    factory.doStop();
    expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
  });

  it('waitForBuilt and nth wait for the nth connection', async () => {
    const factory = new RecordingFactory(() => new RecordingProtocol());
    const addr = new IPv4Address('TCP', '127.0.0.1', 5000);
    const second = factory.nth(2);
    const both = factory.waitForBuilt(2);
    const first = factory.buildProtocol(addr);
    expect(await factory.nth(1)).to.equal(first);
    const built = factory.buildProtocol(addr);
    expect(await second).to.equal(built);
    expect(await both).to.deep.equal([first, built]);
    const err = await factory.nth(0).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(RangeError);
  });
});

describe('RecordingClientFactory and serveOnLoopback', () => {
  it('records a connection from start to loss, against a loopback echo server', async () => {
    const reactor = new SimulatedReactor({ seed: 1 });
    const { factory: servers, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
    expect(servers.starts).to.equal(1);
    const clients = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectTCP('127.0.0.1', port, clients);

    const client = await clients.firstBuilt;
    await client.made;
    client.transport.write('ping');
    expect((await client.waitForBytes(4)).toString()).to.equal('ping');
    const server = await servers.nth(1);
    expect(server.text()).to.equal('ping');

    client.transport.loseConnection();
    expect((await clients.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    expect(clients.events).to.deep.equal([
      'startedConnecting',
      'buildProtocol',
      'clientConnectionLost',
    ]);
    expect(clients.addresses[0]).to.include({ port });
    expect([clients.starts, clients.stops]).to.deep.equal([1, 1]);
    expect(clients.failed.called).to.equal(false);
  });

  it('records a refused connection in failed, with its reason', async () => {
    const reactor = new SimulatedReactor({ seed: 1 });
    const clients = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectTCP('127.0.0.1', 9, clients);
    const reason = await Promise.race([clients.failed, clients.lost]);
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect(clients.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
    expect(clients.built).to.deep.equal([]);
  });

  it('serveOnLoopback binds the host it is given, and rejects when it cannot', async () => {
    // The simulated host has only 127.0.0.1, so ::1 cannot be bound.
    const reactor = new SimulatedReactor({ seed: 1 });
    const err = await serveOnLoopback(reactor, () => new RecordingProtocol(), '::1').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(CannotListenError);
    expect((err as Error).cause).to.have.property('code', 'EADDRNOTAVAIL');
  });
});

describe('docs/testing.md', () => {
  it('shows recording-doubles.example.test.ts verbatim, below its header comment', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const path = 'packages/core/test/testing/recording-doubles.example.test.ts';
    const doc = readFileSync(join(here, '..', '..', '..', '..', 'docs', 'testing.md'), 'utf8');
    const block = new RegExp(`<!-- listing: ${path} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`).exec(
      doc,
    );
    const example = readFileSync(join(here, 'recording-doubles.example.test.ts'), 'utf8').replace(
      /^(\/\/.*\n)+/,
      '',
    );
    expect(block?.[1], 'a ts block after the listing marker').to.equal(example);
  });
});
