// Child of test/endpoints/adopted-port.integration.test.ts: started with listening sockets from
// descriptor 3 and LISTEN_FDS/LISTEN_PID set (as systemd does), it serves an echo on each through
// reactor.adoptStreamPort, reports what it sees as JSON lines, and stops when stdin closes.
import { NodeReactor } from '../../src/node-reactor.js';
import { Factory } from '../../src/factory.js';
import { Protocol } from '../../src/protocol.js';
import { inheritedListenFds, systemdEndpoint } from '../../src/endpoints/systemd-endpoint.js';
import type { AdoptedSocketFamily } from '../../src/interfaces.js';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const families = process.argv.slice(2) as AdoptedSocketFamily[];
const reactor = new NodeReactor({ installSignalHandlers: false });
const fds = inheritedListenFds();
const report = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
report({
  fds,
  leftInEnvironment: ['LISTEN_FDS', 'LISTEN_PID'].filter((name) => name in process.env),
});
const ports = await Promise.all(
  families.map((family, index) =>
    systemdEndpoint(reactor, family, index).listen(Factory.forProtocol(Echo)),
  ),
);
report({ hosts: ports.map((port) => port.getHost().toString()) });
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(ports.map((port) => port.stopListening())).then(() => {
    report({ stopped: true });
    process.exit(0);
  });
});
