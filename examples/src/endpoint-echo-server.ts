/**
 * An echo server on the endpoints named on the command line, in the string
 * grammar of docs/endpoints.md:
 * `node examples/dist/endpoint-echo-server.js 'tcp:8007:interface=127.0.0.1' unix:/tmp/echo.sock`
 * (default `tcp:8007:interface=127.0.0.1`). A bad endpoint is one line on
 * stderr and exit 2. Stops cleanly on SIGINT/SIGTERM.
 *
 * Tests: examples/test/endpoint-echo-server.test.ts
 */
import {
  EndpointError,
  Factory,
  Logger,
  NodeReactor,
  Protocol,
  serverFromString,
  type IStreamServerEndpoint,
} from '@torsion/core';

const log = new Logger('endpoint-echo-server');

/** Sends every byte back. */
class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const descriptions =
  process.argv.length > 2 ? process.argv.slice(2) : ['tcp:8007:interface=127.0.0.1'];
const reactor = new NodeReactor();
let endpoints: IStreamServerEndpoint[];
try {
  // Parsed (and built) before anything listens: a typo costs nothing half-open.
  endpoints = descriptions.map((description) => serverFromString(reactor, description));
} catch (err) {
  if (!(err instanceof EndpointError)) throw err;
  process.stderr.write(`endpoint-echo-server: ${err.message}\n`);
  process.exit(2);
}
for (const endpoint of endpoints) {
  endpoint.listen(Factory.forProtocol(Echo)).addCallbacks(
    (port) => {
      log.info(`listening on ${port.getHost().toString()}`);
    },
    (failure) => {
      log.failure('could not listen', failure);
      reactor.stop();
    },
  );
}
await reactor.run();
