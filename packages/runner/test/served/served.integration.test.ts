// The access log, the metrics port and the policy flags, in-process over loopback.
import { setLogObservers } from '@torsion/core';
import { expect } from 'chai';
import { once } from 'node:events';
import { connect } from 'node:net';

import { client, start, until } from './support.js';

async function scrape(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(socket, 'close');
  return text;
}

interface AccessLine {
  namespace: string;
  fields: Record<string, unknown>;
}

describe('runServices: access log, metrics, policies', function () {
  this.timeout(20_000);
  afterEach(() => {
    setLogObservers([]);
  });

  it('writes one JSON access-log line per connection when it ends, on stdout with -', async () => {
    const s = await start([
      '--log-format',
      'json',
      '--access-log',
      '-',
      'echo',
      '--listen',
      'tcp:0:interface=127.0.0.1',
    ]);
    const port = s.ports[0]!.getHost().port;
    const c = await client(port);
    const clientPort = c.socket.localPort;
    c.socket.end('hello');
    await c.closed;
    await until(() => s.stdout.text.includes('\n'));
    const line = JSON.parse(s.stdout.text.trim()) as AccessLine;
    expect(line.namespace).to.equal('torsion.access');
    expect(line.fields).to.include({
      plugin: 'echo',
      endpoint: 'tcp:0:interface=127.0.0.1',
      local: `127.0.0.1:${String(port)}`,
      peer: `127.0.0.1:${String(clientPort)}`,
      bytesIn: 5,
      bytesOut: 5,
      ending: 'clean',
    });
    expect(line.fields.duration).to.be.a('number').and.at.least(0);
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it("logs the PROXY header's addresses and counts bytes after it, behind haproxy:", async () => {
    const s = await start([
      '--log-format',
      'json',
      '--access-log',
      '-',
      'echo',
      '--listen',
      'haproxy:tcp:0:interface=127.0.0.1',
    ]);
    const c = await client(s.ports[0]!.getHost().port);
    c.socket.write('PROXY TCP4 192.0.2.10 198.51.100.20 40000 443\r\nhi');
    await until(() => c.received() === 'hi');
    c.socket.end();
    await c.closed;
    await until(() => s.stdout.text.includes('\n'));
    const line = JSON.parse(s.stdout.text.trim()) as AccessLine;
    expect(line.fields).to.include({
      peer: '192.0.2.10:40000',
      local: '198.51.100.20:443',
      bytesIn: 2,
      bytesOut: 2,
      ending: 'clean',
    });
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('writes text lines without --log-format json, and marks a reset as lost', async () => {
    const s = await start(['--access-log', '-', 'echo', '--listen', 'tcp:0:interface=127.0.0.1']);
    const c = await client(s.ports[0]!.getHost().port);
    c.socket.write('x');
    await until(() => c.received() === 'x');
    c.socket.resetAndDestroy();
    await until(() => s.stdout.text.includes('\n'));
    expect(s.stdout.text).to.match(
      /\[torsion\.access\] info: echo 127\.0\.0\.1:\d+ lost plugin=echo .* bytesIn=1 bytesOut=1 ending=lost error=\S+/,
    );
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('serves per-plugin metrics on --metrics, refusals by --max-connections included', async () => {
    const s = await start([
      '--metrics',
      'tcp:0:interface=127.0.0.1',
      '--access-log',
      '-',
      'echo',
      '--listen',
      'tcp:0:interface=127.0.0.1',
      '--max-connections',
      '1',
    ]);
    expect(s.ports).to.have.length(2);
    const echoPort = s.ports[0]!.getHost().port;
    const metricsPort = s.ports[1]!.getHost().port;
    const first = await client(echoPort);
    first.socket.write('abc');
    await until(() => first.received() === 'abc');
    const second = await client(echoPort);
    await second.closed; // refused: closed at once
    const page = await scrape(metricsPort);
    expect(page).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(page).to.include('torsion_connections_open{plugin="echo"} 1');
    expect(page).to.include('torsion_connections_accepted_total{plugin="echo"} 1');
    expect(page).to.include('torsion_bytes_received_total{plugin="echo"} 3');
    expect(page).to.include('torsion_bytes_sent_total{plugin="echo"} 3');
    expect(page).to.include(
      'torsion_connections_refused_total{plugin="echo",policy="limitTotalConnections",reason="connection-limit"} 1',
    );
    expect(page).to.include('nodejs_eventloop_lag_seconds');
    expect(s.stdout.text).to.match(
      /ending=refused policy=limitTotalConnections reason=connection-limit/,
    );
    first.socket.end();
    await first.closed;
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('counts a haproxy: refusal (a bad PROXY header) in the metrics', async () => {
    const s = await start([
      '--metrics',
      'tcp:0:interface=127.0.0.1',
      'echo',
      '--listen',
      'haproxy:tcp:0:interface=127.0.0.1',
    ]);
    const echoPort = s.ports[0]!.getHost().port;
    const metricsPort = s.ports[1]!.getHost().port;
    const bad = await client(echoPort);
    bad.socket.write('GET / HTTP/1.0\r\n\r\n');
    await bad.closed;
    const page = await scrape(metricsPort);
    expect(page).to.match(
      /torsion_connections_refused_total\{plugin="echo",policy="haproxy",reason="bad-header"\} 1/,
    );
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('closes a connection idle for --idle-timeout seconds', async () => {
    // Not echo: with an idle timeout its close waits for the timeout's abort grace
    // (TimeoutFactory and echo's producer; reported to @torsion/policies).
    const s = await start(['./polite-plugin.mjs', '--idle-timeout', '0.3']);
    const c = await client(s.ports[0]!.getHost().port);
    const opened = performance.now();
    const closed = await c.closed;
    expect((closed.at - opened) / 1000).to.be.within(0.2, 3);
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });

  it('refuses a peer over --max-connections-per-peer', async () => {
    const s = await start([
      'echo',
      '--listen',
      'tcp:0:interface=127.0.0.1',
      '--max-connections-per-peer',
      '1',
    ]);
    const port = s.ports[0]!.getHost().port;
    const first = await client(port);
    const second = await client(port);
    await second.closed;
    first.socket.write('still here');
    await until(() => first.received() === 'still here');
    first.socket.end();
    await first.closed;
    s.reactor.stop();
    expect(await s.code).to.equal(0);
  });
});
