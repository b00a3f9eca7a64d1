// Child of test/endpoints.bun.test.ts, run by Bun: started with listening sockets from descriptor 3
// and LISTEN_FDS/LISTEN_PID set (as systemd does), it serves an echo on each through
// BunReactor.adoptStreamPort (systemd: endpoints), reports as JSON lines, and stops when stdin closes.
import { Factory, inheritedListenFds, Protocol, serverFromString } from '@torsion/core';
import { BunReactor } from '../../src/index.js';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const families = process.argv.slice(2);
const reactor = new BunReactor({ installSignalHandlers: false });
const report = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
report({ fds: inheritedListenFds(), leftInEnvironment: 'LISTEN_FDS' in process.env });
const ports = await Promise.all(
  families.map((family, index) =>
    serverFromString(reactor, `systemd:domain=${family}:index=${String(index)}`).listen(
      Factory.forProtocol(Echo),
    ),
  ),
);
report({ hosts: ports.map((port) => port.getHost().toString()) });
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  void Promise.all(ports.map((port) => port.stopListening())).then(() => {
    report({ stopped: true });
    process.exit(0);
  });
});
