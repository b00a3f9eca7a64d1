// The example docs/testing.md shows under "Recording protocols and
// factories": everything below this comment, verbatim (recording-factory.test.ts
// checks that the page still matches).
import { expect } from 'chai';
import { ConnectionDone } from '@torsion/core';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingProtocol,
  serveOnLoopback,
  SimulatedReactor,
} from '@torsion/core/testing';

it('echoes what the client sends, then both ends see a clean close', async () => {
  const reactor = new SimulatedReactor({ seed: 1 });
  const { factory: servers, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
  const clients = new RecordingClientFactory(() => new RecordingProtocol());
  reactor.connectTCP('127.0.0.1', port, clients);

  const client = await clients.firstBuilt;
  await client.made;
  client.transport.write('ping');
  expect((await client.waitForBytes(4)).toString()).to.equal('ping');

  client.transport.loseConnection();
  const server = await servers.nth(1);
  expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
  expect(clients.events).to.deep.equal([
    'startedConnecting',
    'buildProtocol',
    'clientConnectionLost',
  ]);
});
