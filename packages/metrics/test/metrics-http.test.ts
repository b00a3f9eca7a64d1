import { expect } from 'chai';
import { StringTransportWithDisconnection } from '@torsion/core/testing';

import { MetricsHTTPFactory, type MetricsPage } from '../src/index.js';

const PAGE: MetricsPage = { contentType: 'text/plain; version=0.0.4', body: 'a_metric 1\n' };

/** Sends `request` in `chunks` pieces and waits for the answer. */
async function exchange(
  request: string,
  source: () => Promise<MetricsPage> = () => Promise.resolve(PAGE),
  chunkSize = request.length,
): Promise<{ text: string; closed: boolean }> {
  const protocol = new MetricsHTTPFactory(source).buildProtocol();
  const transport = new StringTransportWithDisconnection();
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  const bytes = Buffer.from(request, 'latin1');
  for (let i = 0; i < bytes.length; i += chunkSize) {
    protocol.dataReceived(bytes.subarray(i, i + chunkSize));
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { text: Buffer.from(transport.value()).toString('utf8'), closed: transport.disconnecting };
}

describe('MetricsHTTPFactory', () => {
  it('answers GET /metrics with the page and closes, at every chunk size', async () => {
    const request = 'GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n';
    for (let size = 1; size <= request.length; size++) {
      const { text, closed } = await exchange(request, undefined, size);
      expect(text, `chunks of ${String(size)}`).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text).to.include('Content-Type: text/plain; version=0.0.4\r\n');
      expect(text).to.include('Content-Length: 11\r\n');
      expect(text.endsWith('\r\n\r\na_metric 1\n')).to.equal(true);
      expect(closed).to.equal(true);
    }
  });

  it('answers HEAD with the headers only, and ignores a query string', async () => {
    const { text } = await exchange('HEAD /metrics?x=1 HTTP/1.0\r\n\r\n');
    expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith('\r\n\r\n')).to.equal(true);
  });

  it('answers 404 for another path, 405 for another method, 400 for a bad request line', async () => {
    expect((await exchange('GET / HTTP/1.1\r\n\r\n')).text).to.match(/^HTTP\/1\.1 404 /);
    expect((await exchange('POST /metrics HTTP/1.1\r\n\r\n')).text).to.match(/^HTTP\/1\.1 405 /);
    expect((await exchange('hello\r\n\r\n')).text).to.match(/^HTTP\/1\.1 400 /);
  });

  it('answers 431 and closes when the head grows past 8 KiB without ending', async () => {
    const { text, closed } = await exchange(`GET /metrics HTTP/1.1\r\nX: ${'a'.repeat(9000)}`);
    expect(text).to.match(/^HTTP\/1\.1 431 /);
    expect(closed).to.equal(true);
  });

  it('answers 503 when the source fails', async () => {
    const { text } = await exchange('GET /metrics HTTP/1.1\r\n\r\n', () =>
      Promise.reject(new Error('a worker did not answer')),
    );
    expect(text).to.match(/^HTTP\/1\.1 503 /);
  });
});
