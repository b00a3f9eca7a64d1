import { expect } from 'chai';

import { ServerMetrics, countRefusal, newPluginCounters } from '../src/index.js';

describe('ServerMetrics', () => {
  it("publishes each plugin's counters, labelled by plugin, as they are at scrape time", async () => {
    const echo = newPluginCounters('echo');
    const finger = newPluginCounters('finger');
    const metrics = new ServerMetrics(() => [echo, finger], { defaultMetrics: false });
    echo.open = 2;
    echo.accepted = 5;
    echo.bytesIn = 100;
    echo.bytesOut = 90;
    echo.ended.clean = 2;
    echo.ended.lost = 1;
    echo.protocolErrors = 1;
    finger.tlsHandshakeFailures = 3;
    countRefusal(echo, 'limitTotalConnections', 'connection-limit');
    countRefusal(echo, 'limitTotalConnections', 'connection-limit');
    const { body, contentType } = await metrics.page();
    expect(contentType).to.match(/^text\/plain; version=0\.0\.4/);
    expect(body).to.include('torsion_connections_open{plugin="echo"} 2');
    expect(body).to.include('torsion_connections_open{plugin="finger"} 0');
    expect(body).to.include('torsion_connections_accepted_total{plugin="echo"} 5');
    expect(body).to.include('torsion_bytes_received_total{plugin="echo"} 100');
    expect(body).to.include('torsion_bytes_sent_total{plugin="echo"} 90');
    expect(body).to.include('torsion_connections_ended_total{plugin="echo",ending="clean"} 2');
    expect(body).to.include('torsion_connections_ended_total{plugin="echo",ending="refused"} 2');
    expect(body).to.include('torsion_protocol_errors_total{plugin="echo"} 1');
    expect(body).to.include('torsion_tls_handshake_failures_total{plugin="finger"} 3');
    expect(body).to.include(
      'torsion_connections_refused_total{plugin="echo",policy="limitTotalConnections",reason="connection-limit"} 2',
    );
    echo.open = 0;
    expect((await metrics.page()).body).to.include('torsion_connections_open{plugin="echo"} 0');
  });

  it('includes the default process metrics, event-loop delay among them, unless told not to', async () => {
    const withDefaults = new ServerMetrics(() => []);
    expect((await withDefaults.page()).body).to.include('nodejs_eventloop_lag_seconds');
    const without = new ServerMetrics(() => [], { defaultMetrics: false });
    expect((await without.page()).body).not.to.include('nodejs_eventloop_lag_seconds');
  });
});
