/**
 * Serve Echo and LineEcho on loopback, then use the `echo()` client on each.
 * docs/echo.md shows this file; test/examples.test.ts runs it.
 */
import type { IReactor } from '@torsion/core';
import { EchoFactory, LineEchoFactory, echo } from '@torsion/echo';

/** What came back from each server. */
export interface RoundTrip {
  bytes: string;
  lines: string;
}

/** Starts both servers on free ports, sends one request to each, and stops them. */
export async function roundTrip(reactor: IReactor): Promise<RoundTrip> {
  const bytePort = await reactor
    .listenTCP(0, new EchoFactory(), { interface: '127.0.0.1' })
    .whenListening();
  const linePort = await reactor
    .listenTCP(0, new LineEchoFactory(), { interface: '127.0.0.1' })
    .whenListening();
  try {
    const host = '127.0.0.1';
    const bytes = await echo('any bytes at all', { host, port: bytePort.getHost().port, reactor });
    // Only complete lines come back: "no newline yet" is not a line.
    const lines = await echo('first\r\nsecond\r\nno newline yet', {
      host,
      port: linePort.getHost().port,
      reactor,
      timeout: 5,
    });
    return { bytes: bytes.toString(), lines: lines.toString() };
  } finally {
    await bytePort.stopListening();
    await linePort.stopListening();
  }
}
