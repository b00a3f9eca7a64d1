/**
 * Example: length-prefixed JSON messages with `Int32StringReceiver`, as many
 * binary RPC protocols frame them. The server answers each `{"id", "op",
 * "args"}` request with `{"id", "result"}` or `{"id", "error"}`.
 *
 * Tested by test/examples.test.ts.
 */
import { Factory } from '@torsion/core';
import { Int32StringReceiver } from '@torsion/line';

interface Request {
  id: number;
  op: string;
  args: number[];
}

/** Sums or multiplies numbers; refuses messages over 64 KiB. */
export class CalcServer extends Int32StringReceiver {
  override MAX_LENGTH = 64 * 1024;

  override stringReceived(payload: Buffer): void {
    let request: Request;
    try {
      request = JSON.parse(payload.toString('utf8')) as Request;
    } catch {
      this.sendString(JSON.stringify({ id: null, error: 'bad json' }));
      return;
    }
    const { id, op, args } = request;
    if (op === 'sum')
      this.sendString(JSON.stringify({ id, result: args.reduce((a, b) => a + b, 0) }));
    else if (op === 'product')
      this.sendString(JSON.stringify({ id, result: args.reduce((a, b) => a * b, 1) }));
    else this.sendString(JSON.stringify({ id, error: `unknown op ${op}` }));
  }
}

/** The factory to listen with. */
export function calcFactory(): Factory {
  return Factory.forProtocol(CalcServer);
}
