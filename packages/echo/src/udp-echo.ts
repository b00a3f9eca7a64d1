/**
 * `DatagramEcho`: the UDP echo service of RFC 862: every datagram is sent
 * back, whole, to the address it came from.
 *
 * Tests: test/udp-echo.test.ts, test/udp-echo.integration.test.ts,
 * test/udp-interop.integration.test.ts, test/types/echo.test-d.ts
 * @module
 */
import { DatagramProtocol } from '@torsion/core';
import type { INETAddress } from '@torsion/core';

/**
 * Source ports a UDP echo never answers: 0 (not a real sender) and the
 * small services that answer any datagram (echo 7, daytime 13, quote of the
 * day 17, chargen 19, time 37). Two such services answering each other —
 * one datagram with a forged source is enough to start it — loop forever;
 * BSD inetd refuses the same ports for the same reason.
 */
export const ECHO_LOOP_PORTS: ReadonlySet<number> = new Set([0, 7, 13, 17, 19, 37]);

/**
 * Sends every datagram back to its sender (RFC 862, the UDP half).
 *
 * @remarks
 * A datagram from one of {@link ECHO_LOOP_PORTS} is dropped and counted in
 * {@link DatagramEcho.refused}. A datagram the port cannot send back (a
 * refused write) costs only that datagram: the port logs it and goes on.
 *
 * @example
 * ```ts
 * reactor.listenUDP(7, new DatagramEcho(), { interface: '127.0.0.1' });
 * ```
 */
export class DatagramEcho extends DatagramProtocol {
  /** Datagrams dropped because they came from a {@link ECHO_LOOP_PORTS} port. */
  refused = 0;

  override datagramReceived(data: Buffer, address: INETAddress): void {
    if (ECHO_LOOP_PORTS.has(address.port)) {
      this.refused++;
      return;
    }
    this.transport.write(data, address);
  }
}
