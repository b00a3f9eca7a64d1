/**
 * `MetricsHTTPFactory`: answers `GET /metrics` (HTTP/1.0 and 1.1) with a
 * page from a {@link MetricsSource}, one request per connection. Written as
 * a Torsion protocol rather than on `node:http` so that it listens on any
 * Torsion endpoint (`tcp:`, `unix:`, `ssl:`, `systemd:`) on any reactor,
 * Bun's included, and so that it is tested with the test doubles; a
 * Prometheus scrape needs nothing more of HTTP.
 *
 * Tests: test/metrics-http.test.ts
 * @module
 */
import { Factory, Logger, Protocol, type IProtocol } from '@torsion/core';

import type { MetricsPage } from './server-metrics.js';

const log = new Logger('torsion.metrics');

/** Where a page comes from: a process's `ServerMetrics.page()`, or `clusterMetrics` in a primary. */
export type MetricsSource = () => Promise<MetricsPage>;

/** A request head longer than this is answered 431 and closed: a scraper sends a few hundred bytes. */
const MAX_HEAD = 8192;
const HEAD_END = Buffer.from('\r\n\r\n');

function response(status: string, contentType: string, body: string, head = false): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(
      `HTTP/1.1 ${status}\r\nContent-Type: ${contentType}\r\nContent-Length: ${String(bytes.length)}\r\nConnection: close\r\n\r\n`,
      'latin1',
    ),
    head ? Buffer.alloc(0) : bytes,
  ]);
}

/**
 * One HTTP exchange: reads the request head, answers, closes. `GET` and
 * `HEAD` of `/metrics` (a query string is ignored) get the page; another
 * path 404, another method 405, a malformed or oversized head 400 / 431, a
 * source that fails 503 (logged).
 */
export class MetricsHTTPProtocol extends Protocol {
  #head: Buffer[] = [];
  #length = 0;
  #answered = false;

  constructor(readonly source: MetricsSource) {
    super();
  }

  override dataReceived(data: Buffer): void {
    if (this.#answered) return;
    this.#head.push(data);
    this.#length += data.length;
    const head = this.#head.length === 1 ? data : Buffer.concat(this.#head);
    this.#head = [head];
    const end = head.indexOf(HEAD_END);
    if (end < 0) {
      if (this.#length > MAX_HEAD)
        this.#finish(
          response('431 Request Header Fields Too Large', 'text/plain', 'request head too large\n'),
        );
      return;
    }
    this.#answered = true;
    this.#head = [];
    const requestLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine);
    if (match === null) {
      this.#finish(response('400 Bad Request', 'text/plain', 'bad request\n'));
      return;
    }
    const [, method = '', target = ''] = match;
    const path = target.split('?', 1)[0];
    if (path !== '/metrics') {
      this.#finish(response('404 Not Found', 'text/plain', 'not found: try /metrics\n'));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      this.#finish(response('405 Method Not Allowed', 'text/plain', 'only GET and HEAD\n'));
      return;
    }
    this.source().then(
      (page) => {
        this.#finish(response('200 OK', page.contentType, page.body, method === 'HEAD'));
      },
      (err: unknown) => {
        log.failure('Could not collect metrics', err);
        this.#finish(response('503 Service Unavailable', 'text/plain', 'metrics unavailable\n'));
      },
    );
  }

  #finish(bytes: Buffer): void {
    this.#answered = true;
    if (!this.connected) return;
    this.transport.write(bytes);
    this.transport.loseConnection();
  }
}

/** Builds a {@link MetricsHTTPProtocol} per connection, all reading `source`. */
export class MetricsHTTPFactory extends Factory {
  constructor(readonly source: MetricsSource) {
    super();
  }

  override buildProtocol(): IProtocol {
    const protocol = new MetricsHTTPProtocol(this.source);
    protocol.factory = this;
    return protocol;
  }
}
